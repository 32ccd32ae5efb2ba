import { describe, expect, it } from 'vitest';
import { checkGraphRequest, META_GRAPH_FACTS, topLevelFieldNames } from './meta-graph-contract.js';

describe('checkGraphRequest', () => {
  it('accepts a conforming multi-photo feed post and photo upload', () => {
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'feed', params: { message: 'hi', attached_media: '[{"media_fbid":"1"}]', access_token: 't', appsecret_proof: 'p' } })).toEqual([]);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'photos', params: { url: 'https://x.example/a.jpg', published: 'false' } })).toEqual([]);
  });

  it('names unknown parameters, wrong types, bad enum values and missing required ones', () => {
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'feed', params: { mesage: 'typo' } })).toEqual(['POST Page/feed: unknown parameter mesage']);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'photos', params: { published: 'maybe' } })).toEqual(['POST Page/photos: published must be a boolean, got "maybe"']);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'video_reels', params: { upload_phase: 'begin' } })).toEqual([
      'POST Page/video_reels: upload_phase must be one of FINISH, START, got "begin"',
    ]);
    // Enum values are compared without case (the descriptions disagree with Meta's guides on it).
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'video_reels', params: { upload_phase: 'start' } })).toEqual([]);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'video_reels', params: {} })).toEqual(['POST Page/video_reels: missing required parameter upload_phase']);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'feed', params: { attached_media: 'not-a-list{' } })).toHaveLength(1);
  });

  it('checks requested fields against the node the operation answers with', () => {
    expect(checkGraphRequest({ node: 'User', method: 'GET', edge: 'accounts', params: { fields: 'id,name,username,access_token,picture.type(large){url},tasks', limit: '100' } })).toEqual([]);
    expect(checkGraphRequest({ node: 'User', method: 'GET', edge: 'accounts', params: { fields: 'id,nmae' } })).toEqual(['GET User/accounts: Page has no field nmae']);
    expect(checkGraphRequest({ node: 'ShadowIGMediaBuilder', method: 'GET', params: { fields: 'status_code,status' } })).toEqual([]);
  });

  it('knows the multipart `source` of POST /{page-id}/photos the descriptions leave out, and checks only reads’ fields', () => {
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'photos', params: { source: '<file>', published: 'true' } })).toEqual([]);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'videos', params: { sorce: '<file>' } })).toEqual(['POST Page/videos: unknown parameter sorce']);
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'feed', params: { fields: 'id,permalink_url', message: 'x' } })).toEqual([]);
  });

  it('names an operation or node the facts do not have', () => {
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'fed', params: {} })).toEqual(['POST Page/fed: the node Page has no operation POST fed']);
    expect(checkGraphRequest({ node: 'Nope', method: 'GET', params: {} })).toEqual(['GET Nope: the facts describe no node Nope']);
  });

  it('keeps its source and licence, and splits nested field lists at the top level only', () => {
    expect(META_GRAPH_FACTS.about.source).toContain('facebook-business-sdk-codegen');
    expect(META_GRAPH_FACTS.about.licence).toContain('Meta');
    expect(topLevelFieldNames('id,picture.type(large){url,width},children{media_url,id}')).toEqual(['id', 'picture', 'children']);
  });
});
