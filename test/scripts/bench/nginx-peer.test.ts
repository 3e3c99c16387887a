import { describe, expect, it } from 'vitest';
import { renderNginxConfig } from '../../../scripts/bench/nginx-peer.ts';

const config = renderNginxConfig({
  dir: '/tmp/bench-nginx-x',
  rtmpPort: 41000,
  httpPort: 41001,
  modulePath: '/usr/lib/nginx/modules/ngx_rtmp_module.so',
  ffmpeg: '/usr/bin/ffmpeg',
  fragmentSeconds: 2,
  playlistSeconds: 20,
  ladderSourceHeights: [720, 1080],
  user: 'nobody nogroup',
});

describe("the blog's nginx-rtmp configuration", () => {
  it('runs in the foreground on 127.0.0.1 only, with its files in its own directory', () => {
    expect(config).toContain('daemon off;');
    expect(config).toContain('listen 127.0.0.1:41000;');
    expect(config).toContain('listen 127.0.0.1:41001;');
    expect(config).toContain('error_log /tmp/bench-nginx-x/error.log warn;');
    expect(config).toContain('pid /tmp/bench-nginx-x/nginx.pid;');
    // Every listen and path is ours: no default port, no /var path.
    expect(config.match(/listen [^;]+;/g)).toEqual(['listen 127.0.0.1:41000;', 'listen 127.0.0.1:41001;']);
    expect(config).not.toMatch(/\/var\//);
  });

  it('packages app live as HLS with our segment length and window', () => {
    expect(config).toMatch(/application live \{[^}]*hls on;[^}]*hls_fragment 2s;[^}]*hls_playlist_length 20s;/);
  });

  it("transcodes with the blog's five-rung exec ffmpeg ladder per source height, pushing rungs into app hls", () => {
    const exec720 = /application abr720 \{[^}]*exec ([^;]+);/.exec(config)?.[1] ?? '';
    expect(exec720.startsWith('/usr/bin/ffmpeg ')).toBe(true);
    expect(exec720).toContain('-i rtmp://127.0.0.1:41000/abr720/$name');
    expect(exec720.match(/-preset veryfast/g)).toHaveLength(5);
    for (const height of [720, 480, 360, 240, 144]) expect(exec720).toContain(`rtmp://127.0.0.1:41000/hls/$name_${height}p`);
    expect(config).toMatch(/application abr1080 \{[^}]*scale=-2:1080/);
  });
});
