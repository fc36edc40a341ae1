/**
 * The members a light object (request stand-in, light Response, request Headers) does not
 * answer itself, forwarded to the real undici object behind it, made by `real` on first use.
 * So an app that reads `response.body`, `request.cache` or iterates the headers gets exactly
 * what undici gives, and pays for undici only then.
 */
type Members = Record<PropertyKey, unknown>;

/** Defines on `target` each getter and method of `source` that `target` lacks, calling `real(this)`. */
export function forwardMembers<T extends object>(target: T, source: object, real: (self: T) => object): void {
  for (const key of Reflect.ownKeys(source)) {
    if (key === 'constructor' || key === Symbol.toStringTag || Object.prototype.hasOwnProperty.call(target, key))
      continue;
    const desc = Object.getOwnPropertyDescriptor(source, key)!;
    if (desc.get !== undefined) {
      Object.defineProperty(target, key, {
        configurable: true,
        enumerable: desc.enumerable ?? false,
        get(this: T) {
          return (real(this) as Members)[key];
        },
      });
    } else if (typeof desc.value === 'function') {
      Object.defineProperty(target, key, {
        configurable: true,
        writable: true,
        value(this: T, ...args: unknown[]) {
          const object = real(this) as Members;
          return (object[key] as (...a: unknown[]) => unknown).apply(object, args);
        },
      });
    }
  }
}
