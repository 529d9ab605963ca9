import type { Hook } from '@oclif/core'

/** An unknown command is bad usage: exit 2 with the nearest topics, not oclif's 127. */
const hook: Hook.CommandNotFound = async function (options) {
  const id = options.id.replaceAll(':', ' ')
  const topics = [...new Set(options.config.commandIDs.map((command) => command.split(':')[0]))].sort()
  process.stderr.write(`Error: "${id}" is not an opsctl command.\nTry: opsctl --help (topics: ${topics.join(', ')})\n`)
  process.exit(2)
}

export default hook
