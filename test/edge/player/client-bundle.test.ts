import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundlePlayerClient, PLAYER_CLIENT_MODULE, playerClientModule } from '../../../scripts/lib/player-client-bundle.ts';

describe('the player page script bundle', () => {
  it('is what edge/player/client/ builds to (else: npm run build:player, and commit the result)', async () => {
    const committed = readFileSync(PLAYER_CLIENT_MODULE, 'utf8');
    expect(committed === playerClientModule(await bundlePlayerClient()), 'edge/player/client-bundle.generated.ts is stale: run `npm run build:player`').toBe(true);
  });
});
