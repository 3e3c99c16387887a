/** Compares secrets without leaking, through timing, how much of a guess was right. */

export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  // Length differences still take a full pass over the guess, and then fail.
  let difference = left.length ^ right.length;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ (right[i % Math.max(1, right.length)] ?? 0);
  return difference === 0;
}
