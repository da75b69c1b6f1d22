/**
 * @file The font that charts and image captions are drawn with.
 *
 * Skia (inside @napi-rs/canvas) ships no font of its own: on a machine without fonts every
 * label would silently come out blank. We pick an installed family once and fail loudly when
 * there is none. Debian: `apt-get install -y fonts-dejavu-core` provides DejaVu Sans.
 */
import { GlobalFonts } from '@napi-rs/canvas';
import { UserError } from '../core/errors.js';

/** Families we know to have the glyphs we draw (digits, Latin, '−' from vega's axis labels). */
const PREFERRED_FAMILIES = ['DejaVu Sans', 'Liberation Sans', 'Noto Sans', 'Arial', 'Helvetica'];

let chosen: string | undefined;

/** The family to use among those installed; throws when there is none. */
export function pickFontFamily(installed: readonly string[]): string {
  const family = PREFERRED_FAMILIES.find((f) => installed.includes(f)) ?? installed[0];
  if (family === undefined) {
    throw new UserError(
      'no font is installed, so chart and caption text cannot be drawn; ' +
        'install one (Debian/Ubuntu: apt-get install -y fonts-dejavu-core) and run again',
    );
  }
  return family;
}

/** The font family to draw text with, chosen once per process among the system's fonts. */
export function textFontFamily(): string {
  chosen ??= pickFontFamily(GlobalFonts.families.map((f) => f.family));
  return chosen;
}
