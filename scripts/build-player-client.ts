/** `npm run build:player`: bundles the player page's script (edge/player/client/) into edge/player/client-bundle.generated.ts. */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Command } from 'commander';
import { bundlePlayerClient, PLAYER_CLIENT_MODULE, playerClientModule } from './lib/player-client-bundle.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';

new Command('build:player')
  .description(`Bundles the player page's browser script (edge/player/client/) into ${relative(PROJECT_ROOT, PLAYER_CLIENT_MODULE)}, which the edge serves. Run it after changing edge/player/client/; a test fails when the bundle is stale.`)
  .parse();

const source = await bundlePlayerClient();
writeFileSync(PLAYER_CLIENT_MODULE, playerClientModule(source));
console.log(`player client: ${source.length} bytes into ${relative(PROJECT_ROOT, PLAYER_CLIENT_MODULE)}`);
