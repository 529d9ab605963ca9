/**
 * The collapsed-stack ("folded") format of flamegraph.pl, speedscope and most flame graph tools:
 * one line per distinct stack, frames outermost first separated by `;`, then a space and the
 * sample count. Pure.
 */
import { badInput } from '../core/index.js'
import { stackProfile, type StackProfile, type StackUnit, type WeightedStack } from './stacks.js'

const LINE = /^(.*\S)[ \t]+(\d+(?:\.\d+)?)$/

/** Reads folded text; any line that is not `frames count` is bad input naming the line (exit 2). */
export function parseFolded(text: string, source: string, unit: StackUnit = 'samples'): StackProfile {
  const stacks: WeightedStack[] = []
  const lines = text.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '')
    if (line.trim() === '') continue
    const match = LINE.exec(line)
    const frames = match ? match[1]!.split(';') : []
    const problem = !match
      ? 'expected "frame;frame;... count" with a sample count at the end'
      : frames.some((frame) => frame.trim() === '')
        ? 'a stack has an empty frame (";;" or a leading or trailing ";")'
        : undefined
    if (problem) {
      const preview = line.length > 80 ? `${line.slice(0, 77)}...` : line
      throw badInput(
        `${source}:${index + 1}: not a folded stack line: ${problem}\n  ${preview}`,
        'Give a folded-stack file (flamegraph.pl / speedscope collapsed format) or a V8 .cpuprofile.',
      )
    }
    stacks.push({ frames, weight: Number(match![2]) })
  }
  if (stacks.length === 0)
    throw badInput(`${source} has no stacks`, 'Give a folded-stack file with at least one "frame;frame count" line, or a V8 .cpuprofile.')
  return stackProfile(unit, stacks)
}

export function formatFolded(profile: StackProfile): string {
  return profile.stacks.map((stack) => `${stack.frames.join(';')} ${stack.weight}`).join('\n') + (profile.stacks.length ? '\n' : '')
}
