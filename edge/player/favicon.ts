/** The site's icon: a red "live" dot, small enough to live in the code. */
export const FAVICON_PATH = '/favicon.svg';

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#111"/><circle cx="16" cy="16" r="7" fill="#e5322d"/></svg>';

/** The `<link>` every page carries, so browsers ask for this icon instead of a missing /favicon.ico. */
export const FAVICON_LINK = `<link rel="icon" type="image/svg+xml" href="${FAVICON_PATH}">`;
