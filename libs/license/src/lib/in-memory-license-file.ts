import type { LicenseFileAccess } from './license-monitor';

/**
 * A license file held in memory, for tests of code that watches a license:
 * the stamp changes on every write, as a replaced file's would.
 */
export class InMemoryLicenseFile implements LicenseFileAccess {
  text: string | undefined;
  protected version = 0;

  /** `undefined` removes the file. */
  write(text: string | undefined): void {
    this.text = text;
    this.version += 1;
  }

  stamp(): string | undefined {
    return this.text === undefined ? undefined : `v${this.version}`;
  }

  read(): string {
    if (this.text === undefined) throw new Error('ENOENT');
    return this.text;
  }
}
