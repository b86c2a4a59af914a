import { pageResponse, pageToken, readPageRequest } from './paging';

describe('readPageRequest and pageResponse', () => {
  const filters = { status: 'OPEN' };

  it('defaults the size, and resumes after a token issued for the same filters', () => {
    expect(readPageRequest(undefined, filters)).toEqual({ size: 50, violations: [] });
    const { nextPageToken } = pageResponse('loc-9', filters);
    expect(readPageRequest({ pageSize: 2, pageToken: nextPageToken }, filters)).toEqual({
      size: 2,
      after: 'loc-9',
      violations: [],
    });
    expect(pageResponse(undefined, filters)).toEqual({ nextPageToken: '' });
  });

  it('refuses a size out of range, a malformed token and a token of other filters', () => {
    expect(readPageRequest({ pageSize: 201, pageToken: '' }, filters).violations.map((v) => v.field)).toEqual([
      'page.page_size',
    ]);
    expect(readPageRequest({ pageSize: 0, pageToken: 'not-a-token' }, filters).violations[0]?.field).toBe(
      'page.page_token',
    );
    const other = pageToken.encode({ after: 'x', filterHash: pageToken.filterHash({ status: 'CLOSED' }) });
    expect(readPageRequest({ pageSize: 0, pageToken: other }, filters).violations[0]?.field).toBe('page.page_token');
  });
});
