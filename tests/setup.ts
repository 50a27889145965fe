import { afterAll } from 'vitest';
import { removeTempDirs } from './tempDirs.ts';

afterAll(removeTempDirs);
