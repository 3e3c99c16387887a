/** Publish session ids: sortable by time, random enough never to collide, safe in object names. */
import { randomBytes } from 'node:crypto';

export function newSessionId(now: number = Date.now()): string {
  const random = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0');
  return now.toString(36) + random;
}
