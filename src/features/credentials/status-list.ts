import { Bitstring } from '@digitalbazaar/bitstring';

/**
 * W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/): a list of bits, the
 * first bit the most significant bit of the first byte, GZIP-compressed and written as multibase
 * base64url without padding (prefix `u`). 131,072 bits (16 KiB) is the spec's minimum size, which
 * gives group privacy: fetching the list does not tell the issuer which credential is checked.
 */
export const STATUS_LIST_SIZE = 131_072;

/** The encoded list (no multibase prefix) of `size` bits, all 0. */
export async function emptyList(size: number = STATUS_LIST_SIZE): Promise<string> {
  return new Bitstring({ length: size }).encodeBits();
}

/** Sets bit `index` of an encoded list; returns the new encoding. */
export async function setBit(encoded: string, index: number): Promise<string> {
  const list = new Bitstring({ buffer: await Bitstring.decodeBits({ encoded }) });
  list.set(index, true);
  return list.encodeBits();
}

/** Whether bit `index` of an encoded list is set. */
export async function bitIsSet(encoded: string, index: number): Promise<boolean> {
  return new Bitstring({ buffer: await Bitstring.decodeBits({ encoded }) }).get(index);
}

/** The `encodedList` value of a BitstringStatusList: multibase base64url (`u` + base64url). */
export function multibaseList(encoded: string): string {
  return `u${encoded}`;
}
