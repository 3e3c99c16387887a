// Types for the parts of node-media-server 4.4 (CommonJS, untyped) the sidecar uses.
declare module 'node-media-server' {
  import type { Server as NetServer, Socket } from 'node:net';
  import type { Server as TlsServer } from 'node:tls';
  import type BaseSession from 'node-media-server/src/session/base_session.js';

  interface NmsConfig {
    bind?: string;
    rtmp?: { port: number };
    rtmps?: { port: number; key: string; cert: string };
  }

  class NodeMediaServer {
    constructor(config: NmsConfig);
    rtmpServer: {
      run(): void;
      stop(): void;
      handleListenError: (name: string, port: number) => (error: NodeJS.ErrnoException) => void;
      /** Made in the constructor with `handleRequest` as their connection listener. */
      tcpServer?: NetServer;
      tlsServer?: TlsServer;
      /** Starts an RTMP session on a socket; the session reads it through one 'data' listener. */
      handleRequest: (socket: Socket) => void;
    };
    on(event: 'prePublish' | 'postPublish' | 'donePublish' | 'prePlay', listener: (session: BaseSession) => void): void;
    stop(): Promise<void>;
  }
  export default NodeMediaServer;
}

declare module 'node-media-server/src/session/base_session.js' {
  import type { Socket } from 'node:net';

  class BaseSession {
    id: string;
    ip: string;
    protocol: string;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | string[] | undefined>;
    /** Only on RTMP sessions. */
    socket?: Socket;
    /** Only on RTMP sessions: the protocol state (its `flv` is an FLV parser it never uses). */
    rtmp?: {
      flv?: unknown;
      /** The message stream id of the publish or play command. */
      streamId?: number;
      /** An `onStatus` command to the peer on message stream `streamId`. */
      sendStatusMessage?: (streamId: number, level: 'status' | 'error' | 'warning', code: string, description: string) => void;
    };
    sendBuffer: (buffer: Buffer) => void;
    close: () => void;
  }
  export default BaseSession;
}

declare module 'node-media-server/src/core/context.js' {
  import type BaseSession from 'node-media-server/src/session/base_session.js';

  export interface BroadcastServer {
    /** Set by postPublish even when a prePublish listener refused the session. */
    publisher: BaseSession | null;
    subscribers: Map<string, BaseSession>;
    postPlay(session: BaseSession): string | null;
    donePlay(session: BaseSession): void;
    /** How long a disconnected publisher's headers and GOP cache are kept for it to resume (30 s in 4.4.3). */
    publishGraceMs: number;
    /** Called with every packet of the publisher (an instance field: replaceable). */
    broadcastMessage: (packet: AvPacket) => void;
    flvMetaData: Buffer | null;
    flvAudioHeader: Buffer | null;
    flvVideoHeader: Buffer | null;
    flvGopCache: Set<Buffer> | null;
    rtmpMetaData: Buffer | null;
    rtmpAudioHeader: Buffer | null;
    rtmpVideoHeader: Buffer | null;
    rtmpGopCache: Set<Buffer> | null;
    /** Per codec_type (8 audio, 9 video): the last dts, and the offset a resumed publish adds. */
    _lastDts: Record<number, number>;
    _dtsOffset: Record<number, number>;
  }
  /** A publisher's message as node-media-server's parser hands it over (Flv.parserTag). */
  export interface AvPacket {
    /** 8 audio, 9 video, 18 script data. */
    codec_type: number;
    codec_id: number;
    /** 0 audio header, 1 audio frame, 2 video header, 3 keyframe, 4 inter frame, 5 metadata, 6 HEVC HDR metadata. */
    flags: number;
    dts: number;
    pts: number;
    size: number;
    /** The parser's buffer: `size` bytes are the message, overwritten by the next one. */
    data: Buffer;
  }
  const Context: { broadcasts: Map<string, BroadcastServer>; sessions: Map<string, BaseSession> };
  export default Context;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log: (message: string, level?: string) => void };
  export default logger;
}
