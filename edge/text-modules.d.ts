// wrangler.toml's [[rules]] bundle these files as text modules.
declare module 'hls.js/dist/hls.min.js' {
  const source: string;
  export default source;
}

declare module '*/dash.all.min.js' {
  const source: string;
  export default source;
}

declare module 'shaka-player/dist/shaka-player.compiled.js' {
  const source: string;
  export default source;
}
