/** The Deno edge's S3-compatible bucket from its environment (R2's S3 API, AWS S3, MinIO-style servers). */
import type { S3ObjectStoreOptions } from '../../shared/storage/s3-object-store.ts';

const REQUIRED = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const;

/** The store's options, or why there are none: the first required variable that is unset (or empty). */
export function s3SettingsFrom(env: Readonly<Record<string, string | undefined>>): { ok: true; options: S3ObjectStoreOptions } | { ok: false; reason: string } {
  const missing = REQUIRED.find((name) => !env[name]);
  if (missing) return { ok: false, reason: `edge (Deno): set ${missing} (${REQUIRED.slice(0, -1).join(', ')} and ${REQUIRED.at(-1)} are needed)` };
  return {
    ok: true,
    options: {
      endpoint: env.S3_ENDPOINT!,
      bucket: env.S3_BUCKET!,
      region: env.S3_REGION ?? 'auto',
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      pathStyle: env.S3_VIRTUAL_HOSTED !== '1',
    },
  };
}
