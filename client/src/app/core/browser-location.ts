import { Injectable } from '@angular/core';

/** Full-page navigation (sign-in and sign-out leave the app); a seam for tests. */
@Injectable({ providedIn: 'root' })
export class BrowserLocation {
  assign(url: string): void {
    window.location.assign(url);
  }
}
