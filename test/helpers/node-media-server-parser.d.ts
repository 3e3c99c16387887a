// Types for node-media-server's RTMP parser (CommonJS, untyped), which the guard's tests run next to the guard.
declare module 'node-media-server/src/protocol/rtmp.js' {
  class Rtmp {
    inChunkSize: number;
    /** One packet per chunk stream id, each with the size of its message buffer. */
    inPackets: Map<number, { capacity: number }>;
    parserData(bytes: Buffer): string | null;
  }
  export default Rtmp;
}
