/** `npm run build:player`: bundles the player page's script (edge/player/client/) into edge/player/client-bundle.generated.ts. */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { bundlePlayerClient, PLAYER_CLIENT_MODULE, playerClientModule } from './lib/player-client-bundle.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';

const source = await bundlePlayerClient();
writeFileSync(PLAYER_CLIENT_MODULE, playerClientModule(source));
console.log(`player client: ${source.length} bytes into ${relative(PROJECT_ROOT, PLAYER_CLIENT_MODULE)}`);
