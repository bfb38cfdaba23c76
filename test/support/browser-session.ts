import type { TestApp } from './test-app';

/** A minimal cookie jar that follows the console's sign-in like a browser would. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  absorb(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Signs in through /api/auth/login and the embedded provider's form; returns the jar. */
export async function signIn(
  app: TestApp,
  username: string,
  password = username,
  returnTo = '/settings/api-keys',
): Promise<{ jar: CookieJar; finalLocation: string }> {
  const { jar, callback } = await signInUntilCallback(app, username, password, returnTo);
  if (callback.status !== 302) throw new Error(`callback: ${callback.status} ${await callback.text()}`);
  return { jar, finalLocation: callback.headers.get('location')! };
}

/** The sign-in up to the service's callback, as a browser (Accept: text/html) makes it; the callback's answer. */
export async function signInUntilCallback(
  app: TestApp,
  username: string,
  password = username,
  returnTo = '/settings/api-keys',
): Promise<{ jar: CookieJar; callback: Response }> {
  const jar = new CookieJar();
  const go = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { accept: 'text/html', ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.absorb(response);
    return response;
  };
  const login = await go(`${app.url}/api/auth/login?return_to=${encodeURIComponent(returnTo)}`);
  if (login.status !== 302) throw new Error(`login: ${login.status} ${await login.text()}`);
  const authorize = await go(login.headers.get('location')!);
  const form = await authorize.text();
  const loginId = /name="login_id" value="([^"]+)"/.exec(form)?.[1];
  if (!loginId) throw new Error(`no login form: ${form}`);
  const submit = await go(`${app.config.oidc.issuer}/protocol/openid-connect/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login_id: loginId, username, password }).toString(),
  });
  if (submit.status !== 302) throw new Error(`sign-in refused: ${submit.status}`);
  return { jar, callback: await go(submit.headers.get('location')!) };
}
