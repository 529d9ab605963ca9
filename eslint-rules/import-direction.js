// DESIGN.md "Dependencies point inward", as a lint rule:
// - a module in src/<name>/ imports another module only through src/<other>/index.ts (or its events.ts, the
//   journal kinds it defines), and commands/ do too;
// - src/core imports no other module;
// - nothing in src/ imports commands/, and only commands/ and src/dashboard may import src/dashboard;
// - src/ reaches the reference service only through one seam: src/demo importing reference-service/src/index.ts;
// - modules form no cycle (a module may not import one that, through its imports, imports it back).
// Tests and benches may import a module's internals: the face is for other modules, not the test door.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

const SOURCE_EXTENSIONS = /\.(js|ts|tsx|mjs)$/
const REFERENCE_SERVICE_SEAM = { module: 'demo', target: 'reference-service/src/index.ts' }

/** 'src/db/open.ts' -> { area: 'src', module: 'db', rest: 'open.ts' } */
function locate(file, root) {
  const relative = path.relative(root, file).split(path.sep).join('/')
  const [area, module, ...rest] = relative.split('/')
  if (area === 'src') return { area, module, rest: rest.join('/'), relative }
  return { area, module: undefined, rest: [module, ...rest].join('/'), relative }
}

/** A module's face: its index.ts, and its events.ts (the journal kinds it defines, for the event catalog). */
function isFace(rest) {
  return /^(index|events)\.(js|ts|tsx)$/.test(rest)
}

const IMPORT_SPECIFIER = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g

/** Module -> the modules its files import, read from the files on disk (cached per lint run and root). */
const graphs = new Map()
function moduleGraph(root) {
  if (graphs.has(root)) return graphs.get(root)
  const graph = new Map()
  const srcDir = path.join(root, 'src')
  let modules = []
  try {
    modules = readdirSync(srcDir, { withFileTypes: true }).filter((entry) => entry.isDirectory())
  } catch {
    // no src/ (a lint of another tree): no graph
  }
  for (const module of modules) {
    const edges = new Set()
    for (const file of sourceFiles(path.join(srcDir, module.name))) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(IMPORT_SPECIFIER)) {
        const target = locate(path.resolve(path.dirname(file), match[1] ?? match[2]), root)
        if (target.area === 'src' && target.module && target.module !== module.name) edges.add(target.module)
      }
    }
    graph.set(module.name, edges)
  }
  graphs.set(root, graph)
  return graph
}

function sourceFiles(dir) {
  const files = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(full))
    else if (SOURCE_EXTENSIONS.test(entry.name)) files.push(full)
  }
  return files
}

/** The path of modules from `start` back to `goal`, or undefined when there is none. */
function pathBetween(graph, start, goal) {
  const previous = new Map([[start, undefined]])
  const queue = [start]
  while (queue.length > 0) {
    const current = queue.shift()
    if (current === goal) {
      const route = []
      for (let step = current; step !== undefined; step = previous.get(step)) route.unshift(step)
      return route
    }
    for (const next of graph.get(current) ?? []) {
      if (!previous.has(next)) {
        previous.set(next, current)
        queue.push(next)
      }
    }
  }
  return undefined
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the import direction of DESIGN.md between src/ modules, commands/ and the reference service' },
    schema: [],
    messages: {
      notThroughIndex: "'{{from}}' imports '{{target}}': import the {{module}} module through src/{{module}}/index.ts.",
      coreImportsModule: "src/core imports no other module, but imports '{{target}}'.",
      importsCommands: "src/ must not import commands/ ('{{target}}').",
      importsDashboard: "Only commands/ and src/dashboard may import the dashboard ('{{target}}').",
      importsReferenceService:
        "src/ reaches the reference service only through src/demo importing reference-service/src/index.ts, not '{{target}}'.",
      moduleCycle: "'{{from}}' imports the {{module}} module, which imports it back ({{cycle}}): modules must not form a cycle.",
    },
  },
  create(context) {
    const root = context.cwd
    const file = context.filename
    const from = locate(file, root)

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return
      if (from.area === 'test' || from.area === 'bench') return
      const targetFile = path.resolve(path.dirname(file), specifier)
      const target = locate(targetFile, root)
      const data = { from: from.relative, target: specifier, module: target.module }
      if (from.area === 'src' && target.area === 'commands') return context.report({ node, messageId: 'importsCommands', data })
      if (from.area === 'src' && target.area === 'reference-service') {
        const seam =
          from.module === REFERENCE_SERVICE_SEAM.module &&
          target.relative.replace(SOURCE_EXTENSIONS, '.ts') === REFERENCE_SERVICE_SEAM.target
        return seam ? undefined : context.report({ node, messageId: 'importsReferenceService', data })
      }
      if (target.area !== 'src' || (target.module === from.module && from.area === 'src')) return
      if (target.module === 'dashboard' && from.area !== 'commands' && from.module !== 'dashboard') {
        return context.report({ node, messageId: 'importsDashboard', data })
      }
      if (from.area === 'src' && from.module === 'core') return context.report({ node, messageId: 'coreImportsModule', data })
      if (!isFace(target.rest.replace(SOURCE_EXTENSIONS, '.ts'))) return context.report({ node, messageId: 'notThroughIndex', data })
      if (from.area === 'src') {
        const back = pathBetween(moduleGraph(root), target.module, from.module)
        if (back) context.report({ node, messageId: 'moduleCycle', data: { ...data, cycle: [from.module, ...back].join(' -> ') } })
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    }
  },
}
