const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The embedded provider's sign-in form. Field ids match Keycloak's (#username, #password, #kc-login). */
export function loginPage(loginId: string, action: string, error?: string, username = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · development identity provider</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { display: grid; place-items: center; min-height: 100vh; margin: 0; }
  form { display: grid; gap: .75rem; width: min(22rem, 90vw); padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
  label { display: grid; gap: .25rem; font-weight: 500; }
  input { font: inherit; padding: .5rem; border-radius: 6px; border: 1px solid #888; }
  button { font: inherit; padding: .6rem; border-radius: 6px; border: 0; background: #3f51b5; color: #fff; cursor: pointer; }
  :focus-visible { outline: 3px solid #ff9800; outline-offset: 2px; }
  .error { color: #d32f2f; margin: 0; }
  .hint { font-size: .85rem; opacity: .75; margin: 0; }
</style></head>
<body><main><form method="post" action="${escapeHtml(action)}">
  <h1>Sign in</h1>
  <p class="hint">Development identity provider (realm "dev"). Not for production.</p>
  ${error ? `<p class="error" role="alert" id="input-error">${escapeHtml(error)}</p>` : ''}
  <input type="hidden" name="login_id" value="${escapeHtml(loginId)}">
  <label for="username">Username <input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(username)}"></label>
  <label for="password">Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
  <button id="kc-login" type="submit">Sign in</button>
</form></main></body></html>`;
}
