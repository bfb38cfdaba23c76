import { Injectable, signal } from '@angular/core';

/** "Now", refreshed every 30 s, so relative times ("3 minutes ago") stay true on an open page. */
@Injectable({ providedIn: 'root' })
export class Clock {
  readonly now = signal(Date.now());

  constructor() {
    setInterval(() => this.now.set(Date.now()), 30_000);
  }
}
