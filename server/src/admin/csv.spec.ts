import { csvCell } from './admin.controller';

describe('CSV cells', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    [42, '"42"'],
    ['plain', '"plain"'],
    ['=1+2', `"'=1+2"`],
    ['+cmd', `"'+cmd"`],
    ['-2', `"'-2"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tTAB', `"'\tTAB"`],
    // A ";" splits cells in some spreadsheets' locales: quoted, the "=" after it stays text.
    ["x;=cmd|' /C calc'!A0", `"x;=cmd|' /C calc'!A0"`],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    [{ reason: 'x, y' }, '"{""reason"":""x, y""}"'],
  ])('%p -> %p', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});
