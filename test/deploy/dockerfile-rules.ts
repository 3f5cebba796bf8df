// A small Dockerfile reader and the rules docker/Dockerfile must keep (issue 7): pinned base
// images, a non-root user and a health check in every shipped image, production dependencies
// only, and no secret baked into an image.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  /** The image or earlier stage it starts from, with build arguments substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, continuations joined). */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending
      ? { text: `${pending.text} ${part}`, line: pending.line }
      : { text: part, line: index + 1 };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (match) {
      instructions.push({ keyword: match[1].toUpperCase(), args: match[2], line: pending.line });
    }
    pending = undefined;
  });

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      const from = substitute(image, globalArgs);
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : String(stages.length),
        from,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [key, ...value] = instruction.args.split('=');
        globalArgs[key.trim()] = value.join('=').trim();
      }
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

function substitute(value: string, args: Record<string, string>): string {
  return value.replace(/\$\{?(\w+)\}?/g, (_, key: string) => args[key] ?? '');
}

/** A stage and the stages it is built FROM, nearest first. */
export function ancestry(file: Dockerfile, stageName: string): Stage[] {
  const chain: Stage[] = [];
  let current = file.stages.find((s) => s.name === stageName);
  while (current && !chain.includes(current)) {
    chain.push(current);
    const parent: string = current.from;
    current = file.stages.find((s) => s.name === parent);
  }
  return chain;
}

/** The last instruction of a kind that applies to an image, looking through its parents. */
export function effective(
  file: Dockerfile,
  stageName: string,
  keyword: string,
): Instruction | undefined {
  for (const stage of ancestry(file, stageName)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).pop();
    if (found) return found;
  }
  return undefined;
}

const PINNED_IMAGE = /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}$/;
const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN|CREDENTIAL/i;

/**
 * Problems with the images a Dockerfile ships (`targets`); each names the stage and line.
 * Build-only stages may run as root and install dev dependencies; shipped ones may not.
 */
export function dockerfileProblems(
  file: Dockerfile,
  targets: { name: string; healthcheck: boolean }[],
): string[] {
  const problems: string[] = [];
  const stageNames = new Set(file.stages.map((s) => s.name));

  for (const stage of file.stages) {
    if (!stageNames.has(stage.from) && !PINNED_IMAGE.test(stage.from)) {
      problems.push(
        `stage ${stage.name}: base image "${stage.from}" is not pinned by exact version and sha256 digest`,
      );
    }
    for (const i of stage.instructions) {
      if (i.keyword === 'ENV' || i.keyword === 'ARG') {
        for (const name of variableNames(i.args)) {
          if (SECRET_NAME.test(name)) {
            problems.push(
              `line ${i.line}: ${i.keyword} ${name} would bake a secret into the image`,
            );
          }
        }
      }
      if ((i.keyword === 'COPY' || i.keyword === 'ADD') && /(\.pem|\.key|\.env)\b/.test(i.args)) {
        problems.push(
          `line ${i.line}: ${i.keyword} copies key or environment files into the image`,
        );
      }
    }
  }
  for (const [name] of Object.entries(file.globalArgs)) {
    if (SECRET_NAME.test(name)) problems.push(`ARG ${name} would bake a secret into the image`);
  }

  for (const target of targets) {
    const chain = ancestry(file, target.name);
    if (chain.length === 0) {
      problems.push(`no stage named ${target.name}`);
      continue;
    }
    const user = effective(file, target.name, 'USER');
    if (!user) problems.push(`${target.name}: no USER, so the image runs as root`);
    else if (/^(root|0)(:|$)/.test(user.args.trim())) {
      problems.push(`${target.name}: USER ${user.args} is root (line ${user.line})`);
    }
    const runs = chain.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
    const installs = runs.filter((i) => /\bnpm (ci|install|i)\b/.test(i.args));
    if (!installs.some((i) => /\bnpm ci\b[^&;|]*--omit=dev/.test(i.args))) {
      problems.push(`${target.name}: dependencies are not installed with \`npm ci --omit=dev\``);
    }
    for (const i of installs.filter((r) => !/--omit=dev/.test(r.args))) {
      problems.push(`${target.name}: line ${i.line} installs dev dependencies into the image`);
    }
    const healthcheck = effective(file, target.name, 'HEALTHCHECK');
    if (target.healthcheck && (!healthcheck || /^NONE\b/i.test(healthcheck.args))) {
      problems.push(`${target.name}: no HEALTHCHECK`);
    }
  }
  return problems;
}

/** Variable names of `ENV A=1 B=2`, `ENV A 1` or `ARG A[=1]`. */
function variableNames(args: string): string[] {
  if (!args.includes('=')) return [args.split(/\s+/)[0]];
  return [...args.matchAll(/(?:^|\s)([\w.-]+)=/g)].map((m) => m[1]);
}

/** The exec-form CMD of a stage (JSON array), or its shell form as one string. */
export function command(file: Dockerfile, stageName: string): string[] {
  const cmd = effective(file, stageName, 'CMD');
  if (!cmd) return [];
  try {
    return JSON.parse(cmd.args) as string[];
  } catch {
    return [cmd.args];
  }
}
