/** The part of @digitalbazaar/bitstring (untyped JavaScript) the status lists use. */
declare module '@digitalbazaar/bitstring' {
  export class Bitstring {
    constructor(options: { length: number } | { buffer: Uint8Array; leftToRightIndexing?: boolean });
    readonly length: number;
    bits: Uint8Array;
    set(position: number, on: boolean): void;
    get(position: number): boolean;
    /** GZIP, then base64url without padding. */
    encodeBits(): Promise<string>;
    static decodeBits(options: { encoded: string }): Promise<Uint8Array>;
  }
}
