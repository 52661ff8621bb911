import { Logger } from '@nestjs/common';
import { RelayItemProgress } from './relay-item-progress.service';

describe('RelayItemProgress', () => {
  it('wakes the watches of the reported item only (the watches themselves: libs/connector-sdk relay-progress.spec.ts)', () => {
    const progress = new RelayItemProgress();
    const watch = progress.watch('item-1');
    const woken: string[] = [];
    watch.onNext(() => woken.push('item-1'));
    progress.reported('item-2');
    expect(woken).toEqual([]);
    progress.reported('item-1');
    expect(woken).toEqual(['item-1']);
    watch.close();
    expect(progress.size).toBe(0);
  });

  it('tells its listeners every report until they stop, and a listener that throws does not stop the others', () => {
    const progress = new RelayItemProgress();
    const heard: string[] = [];
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    progress.subscribe(() => {
      throw new Error('socket gone');
    });
    const stop = progress.subscribe((itemId) => heard.push(itemId));
    expect(() => progress.reported('item-1')).not.toThrow();
    stop();
    progress.reported('item-2');
    expect(heard).toEqual(['item-1']);
    expect(warnings).toHaveBeenCalledTimes(2);
    warnings.mockRestore();
  });
});
