/**
 * One bound LDAP connection for a connector instance: connects (URLs in
 * order, ldaps:// or StartTLS), binds with the password from the secret
 * reference, and reconnects when the server has dropped the connection. The
 * password is resolved per connect and kept nowhere.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, Control, Entry, Filter, SearchOptions } from 'ldapts';
import { ConnectorError, ConnectorLogger, SecretResolver } from '../connector';
import type { LdapConnectorConfig } from './ldap-config';
import { connectorFailure, describeLdapError, isConnectionFailure, isTlsTrustFailure, LDAP_RESULT, ldapResultCode } from './ldap-errors';
import { decodeUtf8 } from './ldap-dn';
import { parseGeneralizedTime } from './ldap-values';

/**
 * ldapts decodes values as UTF-8 and quietly keeps undecodable ones as
 * Buffers, and matches its buffer list by exact attribute name while servers
 * answer with their own spelling (entryUUID for ENTRYUUID). Asking for every
 * attribute as bytes lets the connector decide per attribute type, and notice
 * text that is not UTF-8 (R10).
 */
class EveryAttributeAsBytes extends Array<string> {
  override includes(): boolean {
    return true;
  }
}

/** The values of one attribute of a search entry as bytes; the name matches case-insensitively. */
export function entryBytes(entry: Entry, name: string): Buffer[] {
  const wanted = name.toLowerCase();
  for (const [key, raw] of Object.entries(entry)) {
    if (key === 'dn' || key.toLowerCase() !== wanted) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    return values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')));
  }
  return [];
}

/** The values of one attribute as text; undecodable values are skipped (for server-maintained attributes). */
export function entryText(entry: Entry, name: string): string[] {
  return entryBytes(entry, name)
    .map((b) => decodeUtf8(b))
    .filter((v): v is string => v !== undefined);
}

export interface RootDse {
  namingContexts: string[];
  defaultNamingContext?: string;
  supportedControl: string[];
  subschemaSubentry?: string;
  monitorContext?: string;
  /** Active Directory: the highest USN this domain controller has committed. */
  highestCommittedUSN?: string;
  /** Active Directory: which domain controller answered (USNs are per DC). */
  dsServiceName?: string;
  vendorName?: string;
}

export interface PagedSearchPage {
  entries: Entry[];
  /** The connection dropped and the search started over: entries already seen come again. */
  restarted: boolean;
}

const MAX_SEARCH_RESTARTS = 3;

export class LdapSession {
  private client?: Client;
  private connecting?: Promise<Client>;
  private timeSource?: 'currentTime' | 'monitor' | 'local';
  private monitorContext = 'cn=Monitor';

  constructor(
    private readonly config: LdapConnectorConfig,
    private readonly secrets: SecretResolver,
    private readonly logger: ConnectorLogger,
  ) {}

  /** A bound client; opens one when there is none or the server dropped the last one. */
  async connect(): Promise<Client> {
    if (this.client?.isBound) return this.client;
    if (this.client) await this.drop(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    this.client = await this.connecting;
    return this.client;
  }

  /**
   * Runs one operation on a bound client. When the connection breaks under
   * it, reconnects once and runs it again: every operation the connector
   * sends is safe to repeat (see the export's idempotency rules).
   */
  async run<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      try {
        return await operation(client);
      } catch (error) {
        if (attempt === 0 && isConnectionFailure(error, client.isConnected)) {
          this.logger.info('ldap connection lost; reconnecting', { reason: describeLdapError(error) });
          await this.drop(client);
          continue;
        }
        throw error;
      }
    }
  }

  /** A plain search with every value as bytes. */
  async search(base: string, options: SearchOptions, controls?: Control[]): Promise<Entry[]> {
    const result = await this.run((client) => client.search(base, { ...options, explicitBufferAttributes: new EveryAttributeAsBytes() }, controls));
    return result.searchEntries;
  }

  /** Reads one entry by DN; undefined when there is none. */
  async read(dn: string, attributes: string[]): Promise<Entry | undefined> {
    try {
      const entries = await this.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes });
      return entries[0];
    } catch (error) {
      if (ldapResultCode(error) === LDAP_RESULT.noSuchObject) return undefined;
      throw error;
    }
  }

  /**
   * A paged search (RFC 2696) that fetches a page only when the caller asks
   * for the next one. When the connection drops between pages, the server's
   * paging state is gone with it: the search reconnects and starts over, and
   * says so, so the caller can skip what it already has.
   */
  async *pagedSearch(base: string, options: SearchOptions & { filter: string | Filter }, controls?: Control[]): AsyncGenerator<PagedSearchPage> {
    let restarts = 0;
    let restarted = false;
    for (;;) {
      const client = await this.connect();
      const pages = client.searchPaginated(base, { ...options, explicitBufferAttributes: new EveryAttributeAsBytes() }, controls);
      let broke = false;
      try {
        for (;;) {
          let next: IteratorResult<{ searchEntries: Entry[] }>;
          try {
            next = await pages.next();
          } catch (error) {
            if (restarts < MAX_SEARCH_RESTARTS && isConnectionFailure(error, client.isConnected)) {
              this.logger.info('ldap connection lost during a paged search; starting it over', { base, reason: describeLdapError(error) });
              restarts++;
              broke = true;
              break;
            }
            throw error;
          }
          if (next.done) return;
          yield { entries: next.value.searchEntries, restarted };
          restarted = false;
        }
      } finally {
        if (!broke) await pages.return(undefined);
      }
      await this.drop(client);
      restarted = true;
    }
  }

  async rootDse(): Promise<RootDse> {
    const attributes = ['namingContexts', 'defaultNamingContext', 'supportedControl', 'subschemaSubentry', 'monitorContext', 'highestCommittedUSN', 'dsServiceName', 'vendorName'];
    const entry = (await this.search('', { scope: 'base', filter: '(objectClass=*)', attributes }))[0];
    const one = (name: string) => (entry ? entryText(entry, name)[0] : undefined);
    return {
      namingContexts: entry ? entryText(entry, 'namingContexts') : [],
      defaultNamingContext: one('defaultNamingContext'),
      supportedControl: entry ? entryText(entry, 'supportedControl') : [],
      subschemaSubentry: one('subschemaSubentry'),
      monitorContext: one('monitorContext'),
      highestCommittedUSN: one('highestCommittedUSN'),
      dsServiceName: one('dsServiceName'),
      vendorName: one('vendorName'),
    };
  }

  /**
   * The server's clock, for watermarks that must be in server time: the
   * root DSE's currentTime (Active Directory), OpenLDAP's cn=Monitor, else
   * this host's clock (`local`; callers then allow for clock skew).
   */
  async serverTime(): Promise<{ time: Date; source: 'server' | 'local' }> {
    if (this.timeSource === undefined || this.timeSource === 'currentTime') {
      const entry = (await this.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['currentTime', 'monitorContext'] }))[0];
      const current = entry ? parseGeneralizedTime(entryText(entry, 'currentTime')[0] ?? '') : undefined;
      if (current) {
        this.timeSource = 'currentTime';
        return { time: current, source: 'server' };
      }
      const monitorContext = entry ? entryText(entry, 'monitorContext')[0] : undefined;
      if (monitorContext) this.monitorContext = monitorContext;
      this.timeSource = monitorContext ? 'monitor' : 'local';
    }
    if (this.timeSource === 'monitor') {
      const monitor = await this.read(`cn=Current,cn=Time,${this.monitorContext}`, ['monitorTimestamp']).catch((error: unknown) => {
        if (ldapResultCode(error) === undefined) throw error;
        return undefined; // no access to cn=Monitor: fall back to this host's clock
      });
      const time = monitor ? parseGeneralizedTime(entryText(monitor, 'monitorTimestamp')[0] ?? '') : undefined;
      if (time) return { time, source: 'server' };
      this.timeSource = 'local';
      this.logger.warn('ldap server time unavailable (no currentTime, cn=Monitor not readable); using this host\'s clock minus delta.clockSkewSeconds');
    }
    return { time: new Date(), source: 'local' };
  }

  /** Forgets the current connection (after the server dropped it, or to start a search over). */
  async drop(client: Client): Promise<void> {
    if (this.client === client) this.client = undefined;
    await client.unbind().catch((error: unknown) => this.logger.debug('ldap unbind after a failure failed too', { reason: describeLdapError(error) }));
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    if (this.client) await this.drop(this.client);
  }

  private async tlsOptions(host: string): Promise<ConnectionOptions> {
    const { caFile, rejectUnauthorized, serverName } = this.config.tls;
    const options: ConnectionOptions = { rejectUnauthorized, minVersion: 'TLSv1.2', host };
    if (serverName) options.servername = serverName;
    else if (!isIP(host)) options.servername = host;
    if (caFile) {
      try {
        options.ca = [await readFile(caFile)];
      } catch (error) {
        throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `tls.caFile ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    return options;
  }

  private async bindPassword(): Promise<string> {
    try {
      return await this.secrets.resolve(this.config.bindPasswordSecret);
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      throw new ConnectorError('CONNECTOR_AUTH_FAILED', `the bind password secret ${this.config.bindPasswordSecret} could not be resolved: ${reason}`);
    }
  }

  private async open(): Promise<Client> {
    let lastError: ConnectorError | undefined;
    for (const url of this.config.urls) {
      const parsed = new URL(url);
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      const tls = await this.tlsOptions(host);
      const client = new Client({
        url,
        timeout: this.config.timeouts.operationMs,
        connectTimeout: this.config.timeouts.connectMs,
        tlsOptions: parsed.protocol === 'ldaps:' ? tls : undefined,
      });
      let stage = parsed.protocol === 'ldaps:' ? 'TLS connect' : 'connect';
      let password: string | undefined;
      try {
        if (this.config.startTls) {
          stage = 'StartTLS';
          await client.startTLS(tls);
        }
        stage = 'bind';
        password = await this.bindPassword();
        await client.bind(this.config.bindDn, password);
        this.logger.debug('ldap bound', { url, bindDn: this.config.bindDn, startTls: this.config.startTls });
        return client;
      } catch (error) {
        // ldapts connects inside bind(): a failure there with no LDAP result and no connection is the connect.
        if (stage === 'bind' && ldapResultCode(error) === undefined && !client.isConnected) stage = parsed.protocol === 'ldaps:' ? 'TLS connect' : 'connect';
        // A failed bind leaves ldapts' socket open: close it on every path.
        await client.unbind().catch(() => undefined);
        const failure = connectorFailure(error, `${stage} to ${url} as ${this.config.bindDn}`);
        const message = password ? failure.message.split(password).join('***') : failure.message;
        lastError = new ConnectorError(failure.code, message, failure.retryable);
        const code = ldapResultCode(error);
        if (code === LDAP_RESULT.invalidCredentials || code === LDAP_RESULT.inappropriateAuthentication || failure.code === 'CONNECTOR_AUTH_FAILED') throw lastError;
        if (failure.code === 'CONNECTOR_CONFIG_INVALID') throw lastError;
        this.logger.warn('ldap server unreachable', { url, reason: message, tlsTrust: isTlsTrustFailure(error) });
      }
    }
    throw lastError ?? new ConnectorError('CONNECTOR_CONFIG_INVALID', 'no LDAP URL configured');
  }
}
