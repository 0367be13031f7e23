// Words and formats in English and Japanese. The language follows the browser (ja, else
// en) until the user picks one with the switch, which is remembered in localStorage.
const en = {
  title: 'beacon console',
  signIn: 'Sign in', signOut: 'Sign out', name: 'User name', password: 'Password',
  badLogin: 'Unknown user or wrong password.', tooMany: 'Too many failed sign-ins. Try again in a minute.',
  nav: { overview: 'Overview', documents: 'Documents', videos: 'Videos', training: 'Training', campaigns: 'Campaigns', tools: 'FAQ & tools' },
  tenant: 'Tenant', language: 'Language',
  period: 'Period', all: 'All time', last7: 'Last 7 days', last30: 'Last 30 days', last90: 'Last 90 days', custom: 'Custom',
  from: 'From', to: 'To', partner: 'Partner ID', campaign: 'Campaign ID', course: 'Course ID', apply: 'Apply', utc: 'days in UTC',
  noPeriodHere: 'This page covers all time: its saved query takes no period.',
  loading: 'Loading…',
  unavailable: part => `ClickHouse is unavailable, so “${part}” cannot be shown right now. The console keeps running; retry in a moment.`,
  failed: part => `ClickHouse could not answer “${part}”.`,
  retry: 'Retry',
  source: 'Source: saved query',
  csv: 'Download CSV', sortBy: col => `Sort by ${col}`,
  vsBefore: 'vs the previous period', noCompare: 'Pick a period to compare with the one before.',
  up: n => `▲ ${n} more`, down: n => `▼ ${n} fewer`, same: '= no change',
  kpi: { activePartners: 'Active partners', documents: 'Documents used', videos: 'Videos used', tools: 'FAQ & tools used', completion: 'Course completion', campaigns: 'Campaigns' },
  completionOf: (c, a) => `${c} of ${a} assigned people`,
  partnersUsing: (u, a) => `${u} of ${a} partners used its contents`,
  toolsNote: 'Use is counted in days per partner. The correlation is between each partner’s days of use and its won deal amount closed in the period (— when undefined, e.g. when every partner used it); the averages compare partners that used the content with the others.',
  mostUsed: 'Content by partners reached',
  quiet: 'Partners that went quiet',
  quietLater: 'Not shown yet: this list needs the partner-activity saved query, which this version does not have.',
  col: {
    content: 'Content', kind: 'Type', partners: 'Partners', partnerDays: 'Partner-days', partnersBefore: 'Partners before', lastSeen: 'Last seen', firstSeen: 'First seen',
    partner: 'Partner', person: 'Person', firstOpened: 'First opened', maxPage: 'Furthest page', pagesSeen: 'Pages seen', opens: 'Opens', dwell: 'Time spent', dwellByPage: 'Time per page',
    page: 'Page', reached: 'Reached it', readers: 'Spent time on it', pageDwell: 'Time on page', second: 'Second', viewers: 'Viewers', retention: 'Retention', drop: 'Drop', dropRank: 'Drop-off',
    course: 'Course', assigned: 'Assigned', completed: 'Completed', rate: 'Completion', notCompleted: 'Not completed',
    campaign: 'Campaign', rank: 'Rank', consumed: 'Contents used', campaignContents: 'Campaign contents', share: 'Share',
    correlation: 'Correlation with won deals', wonUsers: 'Avg won (users)', wonOthers: 'Avg won (others)',
  },
  documents: 'Documents', document: 'Document', noDocuments: 'No documents yet: none is in the contents table and no one has opened one.',
  docViewers: 'Who read it', docPages: 'Where readers stop', docNoViewers: 'Nobody has opened this document in this period (or it does not exist).',
  docChart: 'Readers who reached each page (bars) and total time on each page (line with dots)',
  truncated: n => `Only the first ${n} viewers are shown.`,
  viewersN: 'Viewers', partnersN: 'Partners', totalTime: 'Total time', avgFurthest: 'Average furthest page',
  videos: 'Videos', video: 'Video', noVideos: 'No videos yet: none is in the contents table and no one has played one.',
  videoNoData: 'Nobody has loaded this video yet (or it does not exist).',
  loads: 'Loads', plays: 'Plays', playRate: 'Play rate', length: 'Length',
  retentionChart: 'Share of viewers still watching at each second; numbered circles mark the five largest drop-offs',
  dropOffs: 'Drop-off points', noDrops: 'No viewer left before the end.',
  perSecond: 'Every second',
  training: 'Training completion', trainingEmpty: 'No course assignments match: import course_assignments to see completion.',
  notCompletedList: 'People who have not completed', allCompleted: 'Everyone assigned has completed.',
  campaigns: 'Campaign consumption', campaignsEmpty: 'No campaign contents match: import campaigns and contents, or mint tracked links with beacon link.',
  tools: 'FAQ and tools', toolsEmpty: 'No FAQ or tool content was used in this period.',
  overviewEmpty: 'No content is known for this tenant yet. Once partners open what you send them, it shows here.',
  notFound: 'Not found.',
  sec: 's',
};

const ja = {
  title: 'beacon コンソール',
  signIn: 'サインイン', signOut: 'サインアウト', name: 'ユーザー名', password: 'パスワード',
  badLogin: 'ユーザー名またはパスワードが違います。', tooMany: 'サインインの失敗が多すぎます。1分ほど待ってからお試しください。',
  nav: { overview: '概要', documents: '資料', videos: '動画', training: '研修', campaigns: 'キャンペーン', tools: 'FAQ・ツール' },
  tenant: 'テナント', language: '言語',
  period: '期間', all: '全期間', last7: '過去7日間', last30: '過去30日間', last90: '過去90日間', custom: '指定',
  from: '開始日', to: '終了日', partner: 'パートナーID', campaign: 'キャンペーンID', course: 'コースID', apply: '適用', utc: '日付はUTC',
  noPeriodHere: 'このページは全期間が対象です(保存クエリに期間の指定がありません)。',
  loading: '読み込み中…',
  unavailable: part => `ClickHouse に接続できないため「${part}」を表示できません。コンソールは動作を続けています。しばらくしてから再試行してください。`,
  failed: part => `ClickHouse が「${part}」に応答できませんでした。`,
  retry: '再試行',
  source: '出典: 保存クエリ',
  csv: 'CSVをダウンロード', sortBy: col => `${col}で並べ替え`,
  vsBefore: '前の期間との比較', noCompare: '期間を選ぶと前の期間と比較できます。',
  up: n => `▲ ${n} 増`, down: n => `▼ ${n} 減`, same: '= 変化なし',
  kpi: { activePartners: 'アクティブなパートナー', documents: '閲覧された資料', videos: '視聴された動画', tools: '利用されたFAQ・ツール', completion: '研修の修了率', campaigns: 'キャンペーン' },
  completionOf: (c, a) => `対象者 ${a} 人中 ${c} 人が修了`,
  partnersUsing: (u, a) => `${a} 社中 ${u} 社がコンテンツを利用`,
  toolsNote: '利用はパートナーごとの利用日数で数えます。相関は各パートナーの利用日数と、期間内に受注した金額との相関です(全パートナーが利用した場合など、定義できないときは —)。平均受注額は利用したパートナーとそれ以外を比べます。',
  mostUsed: 'パートナーに届いたコンテンツ',
  quiet: '活動が止まったパートナー',
  quietLater: 'まだ表示できません。このリストにはパートナー活動の保存クエリが必要ですが、このバージョンにはありません。',
  col: {
    content: 'コンテンツ', kind: '種類', partners: 'パートナー数', partnerDays: 'パートナー日数', partnersBefore: '前期間のパートナー数', lastSeen: '最終閲覧', firstSeen: '初回閲覧',
    partner: 'パートナー', person: '担当者', firstOpened: '初回表示', maxPage: '到達ページ', pagesSeen: '閲覧ページ数', opens: '表示回数', dwell: '閲覧時間', dwellByPage: 'ページ別閲覧時間',
    page: 'ページ', reached: '到達者数', readers: '閲覧者数', pageDwell: 'ページ閲覧時間', second: '秒', viewers: '視聴者数', retention: '視聴維持率', drop: '減少', dropRank: '離脱ポイント',
    course: 'コース', assigned: '対象者', completed: '修了者', rate: '修了率', notCompleted: '未修了者',
    campaign: 'キャンペーン', rank: '順位', consumed: '利用コンテンツ数', campaignContents: 'キャンペーンのコンテンツ数', share: '利用率',
    correlation: '受注との相関', wonUsers: '平均受注額(利用)', wonOthers: '平均受注額(未利用)',
  },
  documents: '資料', document: '資料', noDocuments: '資料はまだありません。contents テーブルにも、閲覧の記録にもありません。',
  docViewers: '閲覧した人', docPages: '読者が離れるページ', docNoViewers: 'この期間にこの資料を開いた人はいません(または資料が存在しません)。',
  docChart: '各ページに到達した読者数(棒)と各ページの合計閲覧時間(点付きの線)',
  truncated: n => `最初の ${n} 人のみ表示しています。`,
  viewersN: '閲覧者', partnersN: 'パートナー', totalTime: '合計閲覧時間', avgFurthest: '平均到達ページ',
  videos: '動画', video: '動画', noVideos: '動画はまだありません。contents テーブルにも、再生の記録にもありません。',
  videoNoData: 'この動画を読み込んだ人はまだいません(または動画が存在しません)。',
  loads: '読み込み', plays: '再生', playRate: '再生率', length: '長さ',
  retentionChart: '各秒で視聴を続けている視聴者の割合。番号付きの丸は離脱の大きい上位5か所',
  dropOffs: '離脱ポイント', noDrops: '最後まで離脱した視聴者はいません。',
  perSecond: '秒ごと',
  training: '研修の修了状況', trainingEmpty: '該当する研修の割り当てがありません。course_assignments をインポートすると修了率が表示されます。',
  notCompletedList: '未修了の人', allCompleted: '対象者は全員修了しています。',
  campaigns: 'キャンペーンの利用状況', campaignsEmpty: '該当するキャンペーンのコンテンツがありません。campaigns と contents をインポートするか、beacon link でトラッキングリンクを作成してください。',
  tools: 'FAQ・ツール', toolsEmpty: 'この期間に利用された FAQ・ツールはありません。',
  overviewEmpty: 'このテナントのコンテンツはまだありません。パートナーが資料を開くとここに表示されます。',
  notFound: '見つかりません。',
  sec: '秒',
};

const dicts = { en, ja };

export function pickLang() {
  const saved = localStorage.getItem('beacon.lang');
  if (saved && dicts[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (dicts[base]) return base;
  }
  return 'en';
}

export function makeI18n(lang) {
  const t = dicts[lang] || en;
  const locale = lang === 'ja' ? 'ja-JP' : 'en';
  const nf = new Intl.NumberFormat(locale);
  const pf = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const df = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const dayf = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const hasDF = typeof Intl.DurationFormat === 'function';
  const durf = hasDF ? new Intl.DurationFormat(locale, { style: 'short' }) : null;
  const money = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  return {
    lang, t,
    num: v => (v === null || v === undefined || v === '' ? '—' : nf.format(Number(v))),
    pct: v => (v === null || v === undefined || v === '' ? '—' : pf.format(Number(v))),
    money: v => (v === null || v === undefined || v === '' ? '—' : money.format(Number(v))),
    corr: v => (v === null || v === undefined || v === '' ? '—' : new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(v))),
    time: v => (v ? df.format(new Date(v)) : '—'),
    day: v => (v ? dayf.format(new Date(v + 'T00:00:00Z')) : '—'),
    // milliseconds as a duration: under a minute in seconds (tenths below 10 s), else
    // hours, minutes and seconds
    dur: ms => {
      if (ms === null || ms === undefined || ms === '') return '—';
      ms = Number(ms);
      if (ms < 59500) {
        return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: ms < 10000 ? 1 : 0 }).format(ms < 10000 ? Math.round(ms / 100) / 10 : Math.round(ms / 1000));
      }
      let s = Math.round(ms / 1000);
      const h = Math.floor(s / 3600); s -= h * 3600;
      const m = Math.floor(s / 60); s -= m * 60;
      if (durf) return durf.format(h ? { hours: h, minutes: m, seconds: s } : { minutes: m, seconds: s });
      return [h && `${h} h`, `${m} min`, `${s} s`].filter(Boolean).join(' ');
    },
  };
}
