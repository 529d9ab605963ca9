#!/usr/bin/env node
// Development entry point: runs the TypeScript sources directly, no build needed.
import { register } from 'tsx/esm/api'
import { execute } from '@oclif/core'

register()
await execute({ development: true, dir: import.meta.url })
