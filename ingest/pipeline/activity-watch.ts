/** An ObjectStore that notices a stream's media playlists listing a segment (stream.active), passing every call on. */
import { parseStreamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';

export function activityWatchingStore(store: ObjectStore, onSegmentListed: () => void): ObjectStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'put') {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (key: string, body: Uint8Array | string, options: Parameters<ObjectStore['put']>[2]) => {
        await target.put(key, body, options);
        if (parseStreamObjectKey(key)?.ref.kind !== 'media-playlist') return;
        const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
        if (text.includes('#EXTINF')) onSegmentListed();
      };
    },
  });
}
