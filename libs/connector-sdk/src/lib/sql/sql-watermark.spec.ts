import { ConnectorError } from '../connector';
import { decodeWatermark, DeltaTracker, encodeWatermark, reportHash, SEEN_LIMIT_CHARACTERS } from './sql-watermark';

describe('sql watermarks', () => {
  it('round-trip through the text the engine stores', () => {
    const native = { mode: 'native' as const, types: { person: { column: 'updated_at', at: '2024-05-01 12:00:00.123456+00', seen: { E1: 'h1' } } } };
    expect(decodeWatermark(encodeWatermark(native), 'native')).toEqual(native);
    const snapshot = { mode: 'snapshot' as const, types: { person: { column: 'updated_at', max: '5', count: 3 } } };
    expect(decodeWatermark(encodeWatermark(snapshot), 'snapshot')).toEqual(snapshot);
  });

  it('refuses a watermark another connector or another delta mode wrote', () => {
    expect(() => decodeWatermark('{"v":1,"mode":"accesslog"}', 'native')).toThrow(ConnectorError);
    expect(() => decodeWatermark('not json', 'native')).toThrow('run a full import');
    const snapshot = encodeWatermark({ mode: 'snapshot', types: {} });
    expect(() => decodeWatermark(snapshot, 'native')).toThrow('the delta watermark is for snapshot deltas and the connector now makes native deltas');
  });

  it('hashes what was reported, so a row changed again at the same timestamp differs', () => {
    expect(reportHash({ kind: 'upsert', anchor: 'E1', attributes: { sn: ['A'] } })).toBe(reportHash({ kind: 'upsert', anchor: 'E1', attributes: { sn: ['A'] } }));
    expect(reportHash({ kind: 'upsert', anchor: 'E1', attributes: { sn: ['A'] } })).not.toBe(reportHash({ kind: 'upsert', anchor: 'E1', attributes: { sn: ['B'] } }));
  });
});

describe('DeltaTracker', () => {
  it('lists the rows read at the last watermark value and starts over when the value moves', () => {
    const tracker = new DeltaTracker('u');
    expect(tracker.position()).toBeUndefined();
    tracker.record('t1', 'E1', 'a');
    tracker.record('t2', 'E3', 'b');
    tracker.record('t2', 'E2', 'c');
    expect(tracker.position()).toEqual({ column: 'u', at: 't2', seen: { E3: 'b', E2: 'c' } });
  });

  it('recognises rows the resumed-from position reported as they are now, and only those', () => {
    const tracker = new DeltaTracker('u', { column: 'u', at: 't2', seen: { E2: 'c' } });
    expect(tracker.reportedBefore('t2', 'E2', 'c')).toBe(true);
    expect(tracker.reportedBefore('t2', 'E2', 'changed')).toBe(false);
    expect(tracker.reportedBefore('t2', 'E1', 'c')).toBe(false);
    expect(tracker.reportedBefore('t3', 'E2', 'c')).toBe(false);
    tracker.record('t2', 'E9', 'd');
    expect(tracker.position()).toEqual({ column: 'u', at: 't2', seen: { E2: 'c', E9: 'd' } });
  });

  it('switches to the last anchor when too many rows share one value for a watermark to list', () => {
    const tracker = new DeltaTracker('u');
    let n = 0;
    while (tracker.position()?.after === undefined) {
      tracker.record('t1', `anchor-${String(++n).padStart(6, '0')}`, 'hash-of-row');
      if (n > SEEN_LIMIT_CHARACTERS) throw new Error('never switched');
    }
    expect(tracker.position()).toEqual({ column: 'u', at: 't1', after: `anchor-${String(n).padStart(6, '0')}` });
    tracker.record('t1', 'anchor-999999', 'h');
    expect(tracker.position()).toEqual({ column: 'u', at: 't1', after: 'anchor-999999' });
    // A new value lists rows again.
    tracker.record('t2', 'E1', 'h');
    expect(tracker.position()).toEqual({ column: 'u', at: 't2', seen: { E1: 'h' } });
    expect(encodeWatermark({ mode: 'native', types: { p: tracker.position() as never } }).length).toBeLessThan(200);
  });
});
