import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';
import { IoError } from './errors';

describe('atomic writes', () => {
  it('replaces the target in one step and leaves no temp files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-atomic-'));
    const file = path.join(dir, 'a', 'b.json');
    writeJsonAtomic(file, { x: 1 });
    writeJsonAtomic(file, { x: 2 });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ x: 2 });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['b.json']);
  });

  it('a failed write keeps the old file intact and names the path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-atomic-'));
    const target = path.join(dir, 'keep.txt');
    fs.writeFileSync(target, 'old');
    // a directory where the target should be renamed → rename fails
    const blocked = path.join(dir, 'blocked');
    fs.mkdirSync(path.join(blocked, 'inner'), { recursive: true });
    expect(() => writeFileAtomic(blocked, 'new')).toThrow(IoError);
    expect(() => writeFileAtomic(blocked, 'new')).toThrow(/cannot write .*blocked/);
    expect(fs.readFileSync(target, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir).sort()).toEqual(['blocked', 'keep.txt']);
  });
});
