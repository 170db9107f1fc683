/**
 * A set of 96-bit identity keys (three int32 words each) in typed arrays, open addressing with linear
 * probing. A worker remembers up to a million identities: as strings in a Set they were a million heap
 * objects for every major garbage collection to mark, and each lookup hashed a string first.
 */
export class KeySet {
  private words: Int32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  /**
   * `seed` varies the slot of a key from process to process: the keys are MD5 bits, which a producer
   * could search for ids that crowd one slot; a seed it cannot know keeps probing short.
   */
  constructor(
    private readonly seed: number,
    capacity = 1024,
  ) {
    const slots = 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.words = new Int32Array(slots * 3);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  /** Adds the key; false when the set held it already. */
  add(a: number, b: number, c: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    const { words, used, mask } = this;
    let i = this.slot(a, b, c);
    for (; used[i]; i = (i + 1) & mask) {
      if (words[i * 3] === a && words[i * 3 + 1] === b && words[i * 3 + 2] === c) return false;
    }
    used[i] = 1;
    words[i * 3] = a;
    words[i * 3 + 1] = b;
    words[i * 3 + 2] = c;
    this.size++;
    return true;
  }

  private slot(a: number, b: number, c: number): number {
    return (Math.imul(a ^ this.seed, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b) ^ c) & this.mask;
  }

  private grow(): void {
    const { words, used } = this;
    const slots = used.length * 2;
    this.words = new Int32Array(slots * 3);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.add(words[i * 3], words[i * 3 + 1], words[i * 3 + 2]);
  }
}
