/**
 * Open connections in order of last activity, oldest first, for the idle sweep: an
 * intrusive doubly linked list, so marking a connection active or removing it is a few
 * field writes (a Map keyed by fd paid a hash insert and delete, and rehashing, per request).
 * A member belongs to at most one list at a time; touching it in another list moves it.
 */

/** What the list links through: fields the member carries itself. */
export interface ActivityLinks<T> {
  olderActive: T | null;
  newerActive: T | null;
  /** The list the member is in, or null. */
  activeList: { remove(item: T): void } | null;
}

export class ActivityList<T extends ActivityLinks<T>> {
  #oldest: T | null = null;
  #newest: T | null = null;
  #size = 0;

  /** Members now. */
  get size(): number {
    return this.#size;
  }

  /** The least recently active member, or null. */
  get oldest(): T | null {
    return this.#oldest;
  }

  /** Adds `item` as the most recently active, or moves it there (from any list). */
  touch(item: T): void {
    if (this.#newest === item) return;
    item.activeList?.remove(item);
    item.olderActive = this.#newest;
    item.newerActive = null;
    item.activeList = this;
    if (this.#newest !== null) this.#newest.newerActive = item;
    else this.#oldest = item;
    this.#newest = item;
    this.#size++;
  }

  /** Removes `item`; does nothing when it is not a member of this list. */
  remove(item: T): void {
    if (item.activeList !== this) return;
    const older = item.olderActive;
    const newer = item.newerActive;
    if (older !== null) older.newerActive = newer;
    else this.#oldest = newer;
    if (newer !== null) newer.olderActive = older;
    else this.#newest = older;
    item.olderActive = null;
    item.newerActive = null;
    item.activeList = null;
    this.#size--;
  }

  /** A copy of the members, oldest first (safe to close them while iterating). */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#oldest; item !== null; item = item.newerActive) out.push(item);
    return out;
  }
}
