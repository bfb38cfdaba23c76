import type { ProblemCode } from '../../common/problem-codes';

export interface SignInFailure {
  status: number;
  code: ProblemCode;
  detail: string;
  /** Starts the sign-in again. */
  retryUrl: string;
  /** Ends the session at the identity provider, so another account can be used; absent if it has no logout. */
  signOutUrl?: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The page a browser ends on when sign-in fails: what went wrong, in words and as the problem
 * code, with a way to try again and a way out. It never redirects by itself, so a provider that
 * keeps issuing a token this service refuses cannot put the browser in a loop.
 */
export function signInFailurePage(failure: SignInFailure): string {
  const signOut = failure.signOutUrl
    ? `<a href="${escapeHtml(failure.signOutUrl)}">Sign out at the identity provider</a> to use another account.`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · API keys</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1d1b20; }
  code { background: #f3edf7; padding: 0 .25rem; border-radius: 4px; }
  .actions { display: flex; gap: 1rem; flex-wrap: wrap; margin-top: 1.5rem; }
  .primary { background: #6750a4; color: #fff; padding: .5rem 1rem; border-radius: 20px; text-decoration: none; }
  @media (prefers-color-scheme: dark) { body { background: #141218; color: #e6e0e9; } code { background: #2b2930; } a { color: #d0bcff; } .primary { background: #d0bcff; color: #381e72; } }
</style>
</head>
<body>
<main>
<h1>Sign-in failed</h1>
<p data-testid="sign-in-failure-detail">${escapeHtml(failure.detail)}</p>
<p>Problem code: <code data-testid="sign-in-failure-code">${escapeHtml(failure.code)}</code>. If this keeps happening, send the code to whoever runs this service: the identity provider and this service disagree about the sign-in settings.</p>
<p class="actions"><a class="primary" href="${escapeHtml(failure.retryUrl)}">Try again</a> ${signOut}</p>
</main>
</body>
</html>
`;
}
