// How a URL a manifest names (capability and verify paths, token_url, ...) meets the base URL:
// an absolute URL stands; anything else is a path appended to the base URL, which itself follows
// --base-url, PLUGBOARD_BASE_URL_<PROVIDER> and the integration's environment (DESIGN §2).

/** True for `https://...`, `http://...` and any other `scheme:` URL. */
export function isAbsoluteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(url);
}

/** `base` + `path`, with exactly one slash between them (the base URL may carry a path prefix). */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + (path.startsWith('/') || path === '' ? path : `/${path}`);
}

/** An absolute URL as is; a relative one resolved against the base URL. */
export function resolveAgainstBase(baseUrl: string, url: string): string {
  return isAbsoluteUrl(url) ? url : joinUrl(baseUrl, url);
}
