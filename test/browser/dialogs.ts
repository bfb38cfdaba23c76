import { expect, type Locator } from '@playwright/test';

/**
 * Waits for a Material dialog to finish opening, clicks its closing button and waits until it is
 * gone. Two races this avoids: a dialog that has not appeared yet already counts as "hidden", so
 * waiting for hidden alone can return before the dialog opens over the page; and a click during
 * the opening animation was once seen to leave the dialog open (CI on 501af12). Material marks
 * the container `mdc-dialog--opening` until its opening animation ends.
 */
export async function closeDialog(dialog: Locator, button: string): Promise<void> {
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveClass(/\bmdc-dialog--open\b/);
  await expect(dialog).not.toHaveClass(/\bmdc-dialog--opening\b/);
  await expect(async () => {
    if (await dialog.isVisible()) await dialog.getByRole('button', { name: button }).click({ timeout: 2_000 });
    await expect(dialog).toBeHidden({ timeout: 2_000 });
  }).toPass({ timeout: 15_000 });
}
