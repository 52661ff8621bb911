import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { parseHubMessage, relayCommandReplySchema } from '@identitymesh/connector-sdk';
import { AuditRepository, ConnectorRepository, RelayRepository, RelayView, RunRepository, TransactionRunner } from '@identitymesh/persistence';
import { auditEntry } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { ApiError, notFound } from '../http/api-error';
import type { RelayCommandBody, RelayCommandResponse } from './dto/relay.dto';
import { RelayHubGateway } from './relay-hub.gateway';

/** How long an operator's command waits for the relay's answer. */
export const COMMAND_TIMEOUT_MS = 10_000;

/**
 * `POST /api/relays/{id}/commands`: ping and reload-config travel to the
 * connected relay and wait for its answer; run-connector queues a run of a
 * connector of the relay's group, which the engine hands to the group as
 * work (any relay of the group may take it, and it waits while none is
 * connected). Each command is audited.
 */
@Injectable()
export class RelayCommandsService {
  constructor(
    private readonly relays: RelayRepository,
    private readonly connectors: ConnectorRepository,
    private readonly runs: RunRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
    private readonly hub: RelayHubGateway,
  ) {}

  async send(relayId: string, body: RelayCommandBody, principal: Principal): Promise<RelayCommandResponse> {
    const relay = await this.relays.find(relayId);
    if (!relay) throw notFound('relay', relayId);
    if (relay.status !== 'active') throw new ApiError('RELAY_REVOKED', `relay "${relay.name}" is revoked and takes no commands`);
    if (body.kind === 'run-connector') return this.runConnector(relay, body, principal);

    const started = performance.now();
    const delivery = await this.hub.command(relay.id, { kind: body.kind, sentAt: new Date().toISOString() }, COMMAND_TIMEOUT_MS);
    let result: RelayCommandResponse;
    switch (delivery.outcome) {
      case 'not-connected':
        throw new ApiError('RELAY_NOT_CONNECTED', `relay "${relay.name}" is not connected to this Admin API instance; a command needs a connected relay`);
      case 'timeout':
        result = { kind: body.kind, outcome: 'timeout', detail: `no answer within ${COMMAND_TIMEOUT_MS / 1000} s`, roundTripMs: Math.round(performance.now() - started) };
        break;
      case 'answered': {
        const reply = parseHubMessage(relayCommandReplySchema, delivery.reply);
        const roundTripMs = Math.round(performance.now() - started);
        result = reply.ok
          ? { kind: body.kind, outcome: reply.value.ok ? 'ok' : 'failed', detail: reply.value.detail, roundTripMs }
          : { kind: body.kind, outcome: 'failed', detail: `the relay answered with a malformed reply (${reply.message})`, roundTripMs };
        break;
      }
    }
    await this.audit.append([auditEntry(principal, 'relay.command', { type: 'relay', id: relay.id }, { after: result }, new Date())]);
    return result;
  }

  private async runConnector(relay: RelayView, body: RelayCommandBody, principal: Principal): Promise<RelayCommandResponse> {
    const connectorId = body.connectorId as string;
    const profile = body.profile ?? 'full-import';
    const at = new Date();
    const run = await this.transactions.run(async (tx) => {
      const connector = await this.connectors.findRecord(connectorId, tx);
      if (!connector) throw notFound('connector', connectorId);
      if (connector.relayGroup !== relay.relayGroup) {
        throw new ApiError('CONNECTOR_NOT_RUNNABLE', `connector "${connector.name}" is not assigned to relay group "${relay.relayGroup}" of relay "${relay.name}"`);
      }
      if (!connector.enabled) throw new ApiError('CONNECTOR_NOT_RUNNABLE', `connector "${connector.name}" is disabled; enable it first`);
      const queued = await this.runs.queueIn(tx, { connectorId, profile, preview: false, trigger: 'manual', requestedBy: principal.actor, at });
      await this.audit.record(tx, [
        auditEntry(principal, 'run.trigger', { type: 'connector', id: connectorId }, { after: { profile, relayId: relay.id }, runId: queued.id }, at),
        auditEntry(principal, 'relay.command', { type: 'relay', id: relay.id }, { after: { kind: body.kind, connectorId, profile, outcome: 'queued' }, runId: queued.id }, at),
      ]);
      return queued;
    });
    return { kind: 'run-connector', outcome: 'queued', runId: run.id };
  }
}
