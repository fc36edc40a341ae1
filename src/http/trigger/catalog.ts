/**
 * What each trigger strategy is, as data: the one table that the strategies, the CLI's
 * help, `--mode` checking and the lab's descriptions and colours are all derived from.
 * Imports only the reactor's list of backend names (a module that imports nothing), so the
 * lab's report can use it without loading the addon.
 */
import { READINESS_BACKENDS } from '../../reactor/backend.js';

/** How a strategy's registrations are triggered. */
export type Trigger = 'edge' | 'level' | 'completion';

/**
 * `mode`: what `etlt serve` is for; `seed`: the seed's own loops, flaws included (for the
 * lab, not for traffic); `pitfall`: deliberately wrong, to show a failure live;
 * `completion`: io_uring, which reports operations done, not readiness (neither ET nor LT).
 */
export type StrategyFamily = 'mode' | 'seed' | 'pitfall' | 'completion';

/**
 * Every backend, as `--backend` and the `backend` option take it: the reactor's readiness
 * backends (epoll first, the default), then io_uring's completion engine.
 */
export const BACKENDS = [...READINESS_BACKENDS, 'io_uring'] as const;

/** A polling mechanism a strategy may run on; epoll first, the default. */
export type Backend = (typeof BACKENDS)[number];

/** The readiness backends (the reactor's): level-triggered strategies run on any of them. */
export { READINESS_BACKENDS };

/** Level-triggered strategies run on every readiness backend; edge triggering exists only in epoll(7). */
const EVERY_BACKEND: readonly Backend[] = READINESS_BACKENDS;
const EPOLL_ONLY: readonly Backend[] = ['epoll'];

/** The name of every strategy, as `--mode` and the `mode` option take it. */
export type Mode = 'et' | 'lt' | 'seed-lt' | 'seed-et' | 'et-no-drain' | 'lt-always-out' | 'completion';

/** The facts of one strategy. */
export interface StrategyFacts {
  readonly name: Mode;
  readonly trigger: Trigger;
  readonly family: StrategyFamily;
  /** One line: what it does with epoll. */
  readonly description: string;
  /** Whether its connections may persist (HTTP/1.1 keep-alive); the seed's loops close after each response. */
  readonly keepAlive: boolean;
  /**
   * The backends it runs on: edge-triggered strategies need epoll (poll(2) and select(2)
   * report readiness, never its edges); the seed's LT loop waits for an EPOLLHUP while
   * watched for nothing, which select cannot report.
   */
  readonly backends: readonly Backend[];
  /** The lab's colour for it: level-triggered blues and purple, edge-triggered oranges and red. */
  readonly color: string;
}

/** Every strategy, in the lab's order. */
export const STRATEGY_CATALOG: readonly StrategyFacts[] = [
  {
    name: 'seed-lt',
    trigger: 'level',
    family: 'seed',
    description:
      "the seed's LT loop: EPOLLIN, modify to EPOLLOUT, modify to 0 + shutdown, close on EPOLLHUP (its hangs fixed)",
    keepAlive: false,
    backends: ['epoll', 'poll'],
    color: '#74a9d8',
  },
  {
    name: 'seed-et',
    trigger: 'edge',
    family: 'seed',
    description: "the seed's ET loop: the same modify pattern with EPOLLET, draining each edge (its hangs fixed)",
    keepAlive: false,
    backends: EPOLL_ONLY,
    color: '#f4a259',
  },
  {
    name: 'lt',
    trigger: 'level',
    family: 'mode',
    description:
      'etlt serve --mode lt: EPOLLIN for life, EPOLLOUT only while a send would block, kept alive between requests',
    keepAlive: true,
    backends: EVERY_BACKEND,
    color: '#1f5fa8',
  },
  {
    name: 'et',
    trigger: 'edge',
    family: 'mode',
    description:
      'etlt serve --mode et: registered once with IN|OUT|RDHUP|ET, never modified, drained with bounded turns',
    keepAlive: true,
    backends: EPOLL_ONLY,
    color: '#d9541e',
  },
  {
    name: 'et-no-drain',
    trigger: 'edge',
    family: 'pitfall',
    description:
      'pitfall: ET but one accept and one recv(1024) per edge: data left behind waits for an edge that never comes',
    keepAlive: true,
    backends: EPOLL_ONLY,
    color: '#9e1b32',
  },
  {
    name: 'lt-always-out',
    trigger: 'level',
    family: 'pitfall',
    description: 'pitfall: LT with EPOLLOUT armed from accept to close: every wait reports every idle writable socket',
    keepAlive: true,
    backends: EVERY_BACKEND,
    color: '#7b4fb5',
  },
  {
    name: 'completion',
    trigger: 'completion',
    family: 'completion',
    description:
      'etlt serve --backend io_uring: multishot accept, multishot recv into a provided buffer ring, sends batched per turn',
    keepAlive: true,
    backends: ['io_uring'],
    color: '#2a9d5c',
  },
];

/** The facts of each strategy by name. */
export const FACTS = Object.fromEntries(STRATEGY_CATALOG.map((s) => [s.name, s])) as Readonly<
  Record<Mode, StrategyFacts>
>;

/** Every strategy name, in the lab's order. */
export const MODES: readonly Mode[] = STRATEGY_CATALOG.map((s) => s.name);

/**
 * Why `mode` cannot run on `backend`, for a usage error; undefined when it can.
 */
export function unsupportedBackend(mode: Mode, backend: Backend): string | undefined {
  const facts = FACTS[mode];
  if (facts.backends.includes(backend)) return undefined;
  if (backend === 'io_uring')
    return `mode '${mode}' cannot run on the io_uring backend: io_uring reports completed operations, not readiness, so it is neither edge- nor level-triggered (its mode is 'completion', the default with io_uring)`;
  if (facts.trigger === 'completion')
    return `mode '${mode}' cannot run on the ${backend} backend: ${backend} reports readiness, not completed operations; it runs on io_uring`;
  const why =
    facts.trigger === 'edge'
      ? `${backend}(2) is level-triggered only: edge triggering (EPOLLET) exists only in epoll(7)`
      : `${backend}(2) cannot report the hang-up of an fd watched for nothing, which '${mode}' waits for`;
  return `mode '${mode}' cannot run on the ${backend} backend: ${why}; it runs on ${facts.backends.join(', ')}`;
}

/** The facts of `name`, or undefined for a name that is not a strategy (a report may hold any). */
export function factsOf(name: string): StrategyFacts | undefined {
  return Object.hasOwn(FACTS, name) ? FACTS[name as Mode] : undefined;
}

/**
 * The mode a backend gets when none is given: 'completion' on io_uring (its only one), 'et'
 * where edge triggering exists (epoll), 'lt' elsewhere (poll and select report readiness,
 * never its edges).
 */
export function defaultMode(backend: Backend): Mode {
  if (FACTS.completion.backends.includes(backend)) return 'completion';
  return FACTS.et.backends.includes(backend) ? 'et' : 'lt';
}
