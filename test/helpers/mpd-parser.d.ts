// Types for the part of mpd-parser (video.js's DASH parser, untyped) the tests use.
declare module 'mpd-parser' {
  interface ParsedSegment {
    uri: string;
    resolvedUri: string;
    duration: number;
    timeline: number;
    presentationTime?: number;
    map?: { uri: string; resolvedUri: string };
  }
  interface ParsedPlaylist {
    attributes: Record<string, unknown> & { NAME?: string; BANDWIDTH?: number; CODECS?: string; RESOLUTION?: { width: number; height: number } };
    segments: ParsedSegment[];
    endList: boolean;
  }
  interface ParsedManifest {
    playlists: ParsedPlaylist[];
    mediaGroups: { AUDIO: Record<string, Record<string, { playlists: ParsedPlaylist[] }>> };
    minimumUpdatePeriod?: number;
    endList?: boolean;
  }
  export function parse(manifest: string, options?: { manifestUri?: string; NOW?: number; clientOffset?: number }): ParsedManifest;
}
