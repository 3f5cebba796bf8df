// Reading docker/compose.yaml as Compose would: merge keys resolved and ${VAR:-default}
// interpolated with no variable set on the host.
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  read_only?: boolean;
  tmpfs?: string[] | string;
  cap_drop?: string[];
  command?: string[] | string;
  entrypoint?: string[] | string;
  user?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Compose's interpolation of `$$`, `${VAR}`, `${VAR:-default}` and `${VAR-default}`, host unset. */
export function interpolate(text: string): string {
  return text.replace(
    /\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g,
    (whole, _braced: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      return fallback ?? '';
    },
  );
}

export function parseCompose(text: string): ComposeFile {
  // Interpolation comes after parsing in Compose; the values here hold no YAML syntax, so
  // interpolating the text first gives the same result.
  return parse(interpolate(text), { merge: true }) as ComposeFile;
}

/** A service's environment as strings (mapping or list form). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [key, ...value] = entry.split('=');
        return [key, value.join('=')];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

/** The condition each dependency must reach (`service_started` for the short form). */
export function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']),
  );
}

/** The command line a service runs, joined into one string for inspection. */
export function commandLine(service: ComposeService): string {
  const parts = [service.entrypoint, service.command].flatMap((p) =>
    p === undefined ? [] : Array.isArray(p) ? p : [p],
  );
  return parts.join(' ');
}
