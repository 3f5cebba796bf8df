import { BadRequestException } from '@nestjs/common';
import { createValidationPipe, unstorableTextProblems } from './validation.pipe';

describe('unstorable text', () => {
  it('names each field holding NUL or an unpaired surrogate, at any depth', () => {
    expect(
      unstorableTextProblems(
        { reason: 'a\u0000b', capture: { proxyName: '\ud800' }, recipients: ['RJ1', 'x\udc00'] },
        '',
      ).map((p) => p.field),
    ).toEqual(['reason', 'capture.proxyName', 'recipients.1']);
  });

  it('accepts ordinary text, emoji (paired surrogates) and non-text values', () => {
    expect(
      unstorableTextProblems(
        { name: 'Zoë 👩🏽‍⚕️ O’Brien', n: 1, ok: true, none: null, list: ['é'] },
        '',
      ),
    ).toEqual([]);
  });

  it('names a parameter by its name, and refuses field names that cannot be stored', () => {
    expect(unstorableTextProblems('x\u0000', 'subjectId')).toEqual([
      { field: 'subjectId', problem: expect.stringContaining('NUL') },
    ]);
    expect(unstorableTextProblems({ 'a\u0000': 1 }, '').map((p) => p.field)).toEqual(['a\u0000']);
  });

  it('refuses nesting deeper than any body of the API instead of walking it', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const problems = unstorableTextProblems({ reason: deep }, '');
    expect(problems).toHaveLength(1);
    expect(problems[0].problem).toMatch(/nested more than 16 levels/);
  });
});

describe('the platform validation pipe', () => {
  it('refuses unstorable text in an untyped parameter with VALIDATION_FAILED naming it', async () => {
    const pipe = createValidationPipe();
    const refused = await pipe
      .transform({ q: 'a\u0000' }, { type: 'query', metatype: Object })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestException);
    expect((refused as BadRequestException).getResponse()).toEqual({
      error: 'VALIDATION_FAILED',
      message: 'The request is invalid: q.',
      details: [{ field: 'q', problem: 'q contains a NUL character or an unpaired surrogate' }],
    });
    await expect(
      pipe.transform({ q: 'fine' }, { type: 'query', metatype: Object }),
    ).resolves.toEqual({ q: 'fine' });
  });
});
