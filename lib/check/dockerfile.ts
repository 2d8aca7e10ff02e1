import { DockerfileParser } from 'dockerfile-ast';

/**
 * What the image rules need of a Dockerfile: stages (FROM image, name, line) and USER lines, with global ARG
 * defaults substituted into FROM. Parsing itself is dockerfile-ast's.
 */
export interface DockerStage {
  /** Image as written, ARGs substituted: `node:26@sha256:…`, `build` (an earlier stage), `scratch`. */
  image: string;
  name?: string;
  line: number;
  /** USER instructions in this stage, in order. */
  users: { user: string; line: number }[];
}

export interface ParsedDockerfile {
  stages: DockerStage[];
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions as BuildKit reads them (dockerfile-ast: continuations, comments, the escape directive). */
function instructions(text: string): Instruction[] {
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i) => ({ keyword: i.getKeyword(), args: i.getArgumentsContent() ?? '', line: i.getRange().start.line + 1 }));
}

function substitute(value: string, args: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string, dflt: string, b: string) => {
    const name = a ?? b;
    return args[name] ?? dflt ?? '';
  });
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const stages: DockerStage[] = [];
  const globalArgs: Record<string, string> = {};
  for (const ins of instructions(text)) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
      if (m) globalArgs[m[1]!] = (m[2] ?? '').replace(/^["']|["']$/g, '');
    } else if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/);
      const image = substitute(words[0] ?? '', globalArgs);
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image, ...(asIndex > 0 && words[asIndex + 1] ? { name: words[asIndex + 1] } : {}), line: ins.line, users: [] });
    } else if (ins.keyword === 'USER' && stages.length > 0) {
      stages[stages.length - 1]!.users.push({ user: ins.args.trim(), line: ins.line });
    }
  }
  return { stages };
}

/** The stage a FROM refers to, when it names an earlier stage (case-insensitive, as BuildKit reads it). */
export function earlierStage(parsed: ParsedDockerfile, index: number): DockerStage | undefined {
  const image = parsed.stages[index]?.image.toLowerCase();
  return parsed.stages.slice(0, index).reverse().find((s) => s.name?.toLowerCase() === image);
}

/** `name[:tag][@digest]` split; the registry port is not mistaken for a tag. */
export function splitImageRef(ref: string): { name: string; tag?: string; digest?: string } {
  const [beforeDigest, digest] = ref.split('@', 2) as [string, string | undefined];
  const slash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    name: hasTag ? beforeDigest.slice(0, colon) : beforeDigest,
    ...(hasTag ? { tag: beforeDigest.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
