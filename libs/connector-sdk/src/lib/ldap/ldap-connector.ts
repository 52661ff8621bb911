/**
 * The built-in LDAP connector (OpenLDAP, Active Directory, other LDAPv3
 * directories) over ldapts. See docs/connectors/ldap.md.
 */
import type {
  ConnectionTestResult,
  Connector,
  ConnectorCapabilities,
  ConnectorContext,
  ConnectorFactory,
  ConnectorSchema,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportRequest,
  ObjectTypeSchema,
} from '../connector';
import { ConnectorError } from '../connector';
import { LdapConnectorConfig, parseLdapConfig } from './ldap-config';
import { connectorFailure, describeLdapError, LDAP_RESULT, ldapResultCode } from './ldap-errors';
import { LdapExporter } from './ldap-export';
import { LdapImporter } from './ldap-import';
import { objectTypeSchema, parseSubschema, SERVER_ASSIGNED_ANCHORS, Subschema } from './ldap-schema';
import { entryText, LdapSession } from './ldap-session';

export class LdapConnector implements Connector {
  readonly type = 'ldap';
  private readonly session: LdapSession;
  private readonly importer: LdapImporter;
  private readonly exporter: LdapExporter;
  private schemaPromise?: Promise<Map<string, ObjectTypeSchema>>;

  constructor(
    private readonly config: LdapConnectorConfig,
    private readonly context: ConnectorContext,
  ) {
    this.session = new LdapSession(config, context.secrets, context.logger);
    const schemas = () => this.typeSchemas();
    this.importer = new LdapImporter(this.session, config, schemas, context.logger);
    this.exporter = new LdapExporter(this.session, config, schemas, context.logger);
  }

  capabilities(): ConnectorCapabilities {
    return {
      deltaImport: 'native',
      export: true,
      rename: true,
      assignsAnchorOnAdd: this.config.objectTypes.every((t) => SERVER_ASSIGNED_ANCHORS.has(t.anchorAttribute.toLowerCase())),
    };
  }

  async schema(): Promise<ConnectorSchema> {
    const schemas = await this.typeSchemas();
    return { objectTypes: this.config.objectTypes.map((t) => schemas.get(t.name) as ObjectTypeSchema) };
  }

  async testConnection(): Promise<ConnectionTestResult> {
    const found: string[] = [];
    try {
      await this.session.connect();
      const root = await this.session.rootDse();
      found.push(`bound as ${this.config.bindDn} to ${this.config.urls[0]}${this.config.startTls ? ' (StartTLS)' : ''}`);
      if (root.vendorName) found.push(`server ${root.vendorName}`);
      for (const type of this.config.objectTypes) {
        for (const base of type.baseDns) {
          const entry = await this.session.read(base, ['1.1']);
          if (!entry) return { ok: false, detail: `${found.join('; ')}; base DN ${base} of object type ${type.name} does not exist or is not visible to the bind DN` };
        }
      }
      found.push(`base DNs of ${this.config.objectTypes.map((t) => t.name).join(', ')} readable`);
      const deltaProblem = await this.checkDelta(root.highestCommittedUSN);
      if (deltaProblem) return { ok: false, detail: `${found.join('; ')}; ${deltaProblem}` };
      found.push(`delta mode ${this.config.delta.mode} available`);
      return { ok: true, detail: found.join('; ') };
    } catch (error) {
      const failure = connectorFailure(error, 'connection test');
      return { ok: false, detail: [...found, `${failure.code}: ${failure.message}`].join('; ') };
    }
  }

  private async checkDelta(highestCommittedUSN: string | undefined): Promise<string | undefined> {
    switch (this.config.delta.mode) {
      case 'accesslog': {
        const log = await this.session.read(this.config.delta.accesslogBase, ['1.1']);
        return log ? undefined : `delta mode accesslog: ${this.config.delta.accesslogBase} does not exist or the bind DN cannot read it`;
      }
      case 'usn':
        return highestCommittedUSN ? undefined : 'delta mode usn: the root DSE has no highestCommittedUSN (not Active Directory?)';
      case 'modifyTimestamp':
        return undefined;
    }
  }

  import(request: ImportRequest): AsyncIterable<ImportBatch> {
    return this.importer.run(request);
  }

  export(changes: ExportChange[]): Promise<ExportResult[]> {
    return this.exporter.apply(changes);
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  private typeSchemas(): Promise<Map<string, ObjectTypeSchema>> {
    this.schemaPromise ??= this.loadSchemas().catch((error: unknown) => {
      this.schemaPromise = undefined;
      throw error;
    });
    return this.schemaPromise;
  }

  private async loadSchemas(): Promise<Map<string, ObjectTypeSchema>> {
    const subschema = await this.readSubschema();
    return new Map(this.config.objectTypes.map((t) => [t.name, objectTypeSchema(t, subschema)]));
  }

  /** The server's subschema; without it (no access), types come from the config alone. */
  private async readSubschema(): Promise<Subschema | undefined> {
    try {
      const root = await this.session.rootDse();
      const entry = (
        await this.session.search(root.subschemaSubentry ?? 'cn=Subschema', { scope: 'base', filter: '(objectClass=subschema)', attributes: ['attributeTypes', 'objectClasses'] })
      )[0];
      if (!entry) return undefined;
      return parseSubschema(entryText(entry, 'attributeTypes'), entryText(entry, 'objectClasses'));
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      if (ldapResultCode(error) === undefined || ldapResultCode(error) === LDAP_RESULT.busy) throw connectorFailure(error, 'reading the schema');
      this.context.logger.warn('ldap subschema not readable; attribute types come from the config only', { reason: describeLdapError(error) });
      return undefined;
    }
  }
}

/** The `ldap` connector type. */
export const ldapConnectorFactory: ConnectorFactory<LdapConnectorConfig> = {
  type: 'ldap',
  validate: parseLdapConfig,
  create: (config, context) => new LdapConnector(config, context),
};
