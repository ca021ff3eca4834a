/** A rendered HTTP task path that would reach outside its configured service. */
export class UnsafeServicePathError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`path '${truncate(path)}' refused: ${reason}`);
    this.name = 'UnsafeServicePathError';
  }
}

/**
 * Percent-decoding rounds before a path counts as hostile: an attacker who controls a template value can nest
 * encodings (`%252e` → `%2e` → `.`), and any server on the way may decode once more than we did.
 */
const decodingRounds = 3;

/**
 * Joins a service's configured base URL and a path rendered from a template, refusing every path that could
 * leave the service: another host (`//host`, `\host`), a scheme, dot segments that climb above the base path,
 * and the percent-encoded or nested-encoded forms of each. The base path is kept (`http://x/api` + `/rates`
 * is `http://x/api/rates`), and the result is checked to stay on the base's origin and under its path.
 *
 * Templates are written by people outside the platform team and render values from events, so the path is
 * untrusted text: refusing ambiguity (an encoded `/` or `\`, control characters) is safer than normalising it.
 */
export function resolveServiceUrl(baseUrl: string, renderedPath: string): URL {
  const base = new URL(baseUrl);
  if (base.search !== '' || base.hash !== '') {
    throw new UnsafeServicePathError(
      renderedPath,
      `service base URL '${baseUrl}' must not carry a query or fragment`,
    );
  }
  if (!renderedPath.startsWith('/')) throw new UnsafeServicePathError(renderedPath, "it must start with '/'");
  if (renderedPath.includes('#')) throw new UnsafeServicePathError(renderedPath, 'a fragment is not allowed');
  const queryAt = renderedPath.indexOf('?');
  const pathPart = queryAt === -1 ? renderedPath : renderedPath.slice(0, queryAt);
  const query = queryAt === -1 ? '' : renderedPath.slice(queryAt);

  const forms = decodedForms(renderedPath, pathPart);
  for (const form of forms) {
    if (hasControlCharacter(form)) throw new UnsafeServicePathError(renderedPath, 'control characters');
    if (form.includes('\\')) throw new UnsafeServicePathError(renderedPath, 'a backslash');
    if (form.startsWith('//')) throw new UnsafeServicePathError(renderedPath, 'it names another host');
    if (/^\/[a-z][a-z0-9+.-]*:/i.test(form))
      throw new UnsafeServicePathError(renderedPath, 'it starts with a scheme');
    if (form.split('/').some((segment) => segment === '.' || segment === '..'))
      throw new UnsafeServicePathError(renderedPath, 'dot segments');
  }
  // A server may decode `%2f` into a separator or not: the path's meaning would depend on who reads it.
  if (forms.some((form) => /%2f/i.test(form)))
    throw new UnsafeServicePathError(renderedPath, 'an encoded slash');

  const target = new URL(base.origin);
  target.pathname = `${basePathOf(base)}${pathPart}`;
  target.search = query;
  if (!isUnderService(baseUrl, target)) {
    throw new UnsafeServicePathError(renderedPath, `it resolves outside ${base.origin}${basePathOf(base)}/`);
  }
  return target;
}

/** Whether a URL (e.g. a redirect's resolved location) stays on the service's origin and under its base path. */
export function isUnderService(baseUrl: string, url: URL): boolean {
  const base = new URL(baseUrl);
  return url.origin === base.origin && url.pathname.startsWith(`${basePathOf(base)}/`);
}

function basePathOf(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}

/** The path as sent and after each round of percent-decoding; a malformed escape ends the rounds. */
function decodedForms(renderedPath: string, pathPart: string): string[] {
  const forms = [pathPart];
  let current = pathPart;
  for (let round = 0; round < decodingRounds; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      throw new UnsafeServicePathError(renderedPath, 'a malformed percent-encoding');
    }
    if (decoded === current) break;
    forms.push(decoded);
    current = decoded;
  }
  return forms;
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
