/** Whether a stream records its broadcasts: its own setting when it has one, else its retention (`all` records). Pure. */
import type { Retention } from '../publish/retention.ts';

export function recordsBroadcasts(setting: boolean | null | undefined, retention: Retention): boolean {
  return setting ?? retention === 'all';
}
