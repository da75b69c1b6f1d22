import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GlobalFonts } from '@napi-rs/canvas';
import { UserError } from '../core/errors.js';
import { pickFontFamily, textFontFamily } from './fonts.js';

describe('pickFontFamily', () => {
  it('prefers DejaVu Sans, then any installed family', () => {
    assert.equal(pickFontFamily(['Liberation Sans', 'DejaVu Sans']), 'DejaVu Sans');
    assert.equal(pickFontFamily(['Some Font']), 'Some Font');
  });

  it('says which package to install when there is no font, instead of drawing blank text', () => {
    assert.throws(() => pickFontFamily([]), (err: unknown) => err instanceof UserError && /fonts-dejavu-core/.test(err.message));
  });
});

describe('textFontFamily', () => {
  it('finds a font on this machine (CI needs fonts-dejavu-core)', () => {
    assert.ok(GlobalFonts.families.some((f) => f.family === textFontFamily()));
  });
});
