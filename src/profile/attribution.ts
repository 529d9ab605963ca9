/**
 * How a CPU profile's samples are attributed to functions, and the node flags that make it right.
 *
 * V8's optimizing compilers inline small and hot functions into their callers. The CPU profiler
 * then walks the stack of machine frames: a return address inside inlined code is expanded into
 * the inlined functions, but the frame that was running when the sample was taken (the leaf, the
 * sample's pc) is not (V8's SymbolizeTickSample, src/profiler/symbolizer.cc), so the samples of
 * an inlined function land on its caller. A request handler that calls one hot function then
 * ranks first and the hot function second (77% / 18% in issue #17; 0.1% / 77% with inlining
 * off). The profile keeps only line numbers of the inlined code
 * (`positionTicks`), without saying which script they belong to, and V8 inlines across modules,
 * so the samples cannot be given back reliably after the fact.
 *
 * So opsctl runs the target with inlining off (`--no-turbo-inlining`, and `--no-maglev-inlining`
 * where the node has Maglev): every function keeps its own frame and its own samples. The cost
 * is that calls V8 would have inlined stay calls: slower on call-heavy code (bench/RESULTS.md),
 * which the report says. `--keep-inlining` leaves the target as it would run in production and
 * says that inlined functions are then counted in their callers.
 *
 * Allocation sampling (--heap) has the same blind spot (its stack walk names each machine frame's
 * own function, not the functions inlined into it) but runs the target unchanged: without
 * inlining, escape analysis cannot remove objects that cross a call, so the target would
 * allocate more than it does, and bytes are what --heap measures. The report says so.
 */
import { spawnSync } from 'node:child_process'

export type AttributionMethod = 'no-inlining' | 'v8-inlined'

export interface Attribution {
  method: AttributionMethod
  /** The node flags opsctl added to the target for it. */
  nodeFlags: string[]
  /** One sentence for reports, the flame graph page and the journal. */
  description: string
}

/** V8 flags that turn inlining off, in the order they are tried; a node that does not know one does not get it. */
const INLINING_OFF = ['--no-turbo-inlining', '--no-maglev-inlining']

/** Flags in the user's own command that turn inlining back on (theirs come after ours, so they win). */
const INLINING_ON = /^--(turbo-inlining|maglev-inlining|stress-inline|turbo-inline-js-wasm-calls)(=.*)?$/

const knownFlags = new Map<string, Set<string>>()

/** The V8 flags a node binary knows (`node --v8-options`), read once per binary. */
function v8FlagsOf(nodeBinary: string): Set<string> {
  let flags = knownFlags.get(nodeBinary)
  if (!flags) {
    const listing = spawnSync(nodeBinary, ['--v8-options'], { encoding: 'utf8', timeout: 10_000, maxBuffer: 16 * 1024 * 1024 })
    flags = new Set([...(listing.stdout ?? '').matchAll(/^\s+--([a-z0-9-]+)\s/gm)].map((match) => match[1]!.replace(/^no-/, '')))
    knownFlags.set(nodeBinary, flags)
  }
  return flags
}

/** The flags that turn inlining off in this node, or `[]` when it knows none of them (then attribution is V8's). */
export function inliningOffFlags(nodeBinary: string): string[] {
  const known = v8FlagsOf(nodeBinary)
  // a listing that failed (a node that cannot run) says nothing: keep the one flag every V8 since 2015 has
  if (known.size === 0) return [INLINING_OFF[0]!]
  return INLINING_OFF.filter((flag) => known.has(flag.replace(/^--no-/, '')))
}

/** The node options of a `node [options] script [args]` command: the words before the script. */
function nodeOptionsOf(command: readonly string[]): string[] {
  const options: string[] = []
  for (const word of command.slice(1)) {
    if (!word.startsWith('-')) break
    options.push(word)
  }
  return options
}

/**
 * What opsctl does for a CPU profile: turn inlining off unless asked to keep it (or the user's own
 * node flags turn it on again, in which case the report says V8's attribution applies).
 */
export function planAttribution(command: readonly string[], nodeBinary: string, keepInlining: boolean): Attribution {
  const userTurnsItOn = nodeOptionsOf(command).find((word) => INLINING_ON.test(word))
  if (keepInlining || userTurnsItOn) return v8Attribution(userTurnsItOn)
  const nodeFlags = inliningOffFlags(nodeBinary)
  if (nodeFlags.length === 0) return v8Attribution()
  return {
    method: 'no-inlining',
    nodeFlags,
    description:
      `Each function's own samples: the target ran with V8's inlining off (${nodeFlags.join(' ')}), so a function ` +
      'V8 would inline into its caller keeps its own frame. Calls that would have been inlined cost a little more time.',
  }
}

function v8Attribution(userFlag?: string): Attribution {
  return {
    method: 'v8-inlined',
    nodeFlags: [],
    description:
      `V8's own attribution: the target ran with inlining on${userFlag ? ` (${userFlag} in its command)` : ' (--keep-inlining)'}, ` +
      'and the samples of a function V8 inlined are counted in the function it was inlined into.',
  }
}

/** Allocation sampling keeps inlining: turning it off would change what the target allocates. */
export const HEAP_ATTRIBUTION: Attribution = {
  method: 'v8-inlined',
  nodeFlags: [],
  description:
    "V8's own attribution: the target ran unchanged, and bytes allocated in a function V8 inlined are counted in the function " +
    'it was inlined into (inlining off would also turn off escape analysis across calls and change what is allocated).',
}
