import { WorkQueue } from '../../drift/controller/queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    q.run(async (key) => void seen.push(key));
    await q.idle();
    expect(seen).toEqual(['a', 'b']);
  });

  it('never works on one key twice at once, and works on it again if it was added meanwhile', async () => {
    const q = new WorkQueue({ workers: 4 });
    let running = 0;
    let most = 0;
    let calls = 0;
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    q.run(async () => {
      calls++;
      running++;
      most = Math.max(most, running);
      if (calls === 1) await first;
      running--;
    });
    q.add('a');
    await tick();
    q.add('a'); // while 'a' is in work
    q.add('a');
    await tick();
    expect(calls).toBe(1);
    release();
    await q.idle();
    expect(calls).toBe(2);
    expect(most).toBe(1);
  });

  it('drops keys beyond its length and counts them', () => {
    const q = new WorkQueue({ maxLength: 2 });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    expect(q.length).toBe(2);
    expect(q.dropped).toBe(2);
  });

  it('adds a key after a delay, the earliest pending delay winning', async () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue();
      const seen: string[] = [];
      q.run(async (key) => void seen.push(key));
      q.addAfter('a', 5000);
      q.addAfter('a', 1000);
      q.addAfter('a', 3000);
      jest.advanceTimersByTime(999);
      expect(seen).toEqual([]);
      jest.advanceTimersByTime(1);
      await Promise.resolve();
      expect(seen).toEqual(['a']);
      jest.advanceTimersByTime(10_000);
      await Promise.resolve();
      expect(seen).toEqual(['a']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('backs off a failing key exponentially, up to the cap, until it is forgotten', () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 350 });
      const delays: number[] = [];
      const spy = jest.spyOn(q, 'addAfter').mockImplementation((_key, ms) => void delays.push(ms));
      for (let i = 0; i < 4; i++) q.addRateLimited('a');
      expect(delays).toEqual([100, 200, 350, 350]);
      expect(q.failuresOf('a')).toBe(4);
      q.forget('a');
      q.addRateLimited('a');
      expect(delays.at(-1)).toBe(100);
      spy.mockRestore();
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops taking keys on shutdown, and waits for the one in work', async () => {
    const q = new WorkQueue();
    let done = false;
    q.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      done = true;
    });
    q.add('a');
    q.add('b');
    await tick();
    await q.shutDown();
    expect(done).toBe(true);
    q.add('c');
    expect(q.length).toBe(0);
  });
});
