/**
 * Who is signed in and what they like, shared by every page. Sign-in is App Service
 * Authentication's own flow (a redirect to /.auth/login/aad and back); locally `npm start` serves
 * a dev stand-in at the same URLs. GET /session says whether anyone is signed in, GET /me what they like.
 */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createTracklistApi } from './api/client.ts';
import type { Like, Me, TracklistApi, Unavailable } from './api/client.ts';

export interface Session {
  api: TracklistApi;
  /** undefined while checking, null when signed out. */
  me: Me | null | undefined;
  likes: Map<string, Like>;
  unavailable: Unavailable | null;
  signInUrl(returnTo?: string): string;
  signOutUrl: string;
  refresh(): Promise<void>;
  /** Adds or re-scores likes; the API's answer replaces the local list. */
  like(songs: { song: string; score: number }[]): Promise<void>;
  unlike(songs: string[]): Promise<void>;
  /** Changes of the like list, so pages showing recommendations can refetch. */
  likesVersion: number;
  signedOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [unavailable, setUnavailable] = useState<Unavailable | null>(null);
  const api = useMemo(() => createTracklistApi({ onUnavailable: setUnavailable }), []);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [likesVersion, setLikesVersion] = useState(0);

  const refresh = useCallback(async () => {
    // /session never answers 401, so a signed-out visitor's console stays clean.
    const { user } = await api.call(() => api.client.GET('/session'));
    if (!user) return setMe(null);
    try {
      setMe(await api.call(() => api.client.GET('/me')));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else throw e;
    }
  }, [api]);

  useEffect(() => {
    refresh().catch(() => setMe(null));
  }, [refresh]);

  const setLikes = (likes: Like[]) => {
    setMe((m) => (m ? { ...m, likes } : m));
    setLikesVersion((v) => v + 1);
  };

  const session: Session = {
    api,
    me,
    likes: new Map((me?.likes ?? []).map((l) => [l.song, l])),
    unavailable,
    likesVersion,
    signInUrl: (returnTo = window.location.pathname + window.location.search) =>
      `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`,
    signOutUrl: '/.auth/logout?post_logout_redirect_uri=/',
    refresh,
    async like(songs) {
      const r = await api.call(() => api.client.PATCH('/me/preferences', { body: { add: songs } }));
      setLikes(r.likes);
    },
    async unlike(songs) {
      const r = await api.call(() => api.client.PATCH('/me/preferences', { body: { remove: songs } }));
      setLikes(r.likes);
    },
    signedOut: () => setMe(null),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
