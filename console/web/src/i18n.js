// Words and formats in English and Japanese. The language follows the browser (ja, else
// en) until the user picks one with the switch, which is remembered in localStorage.
const en = {
  title: 'beacon console',
  signIn: 'Sign in', signOut: 'Sign out', name: 'User name', password: 'Password',
  badLogin: 'Unknown user or wrong password.', tooMany: 'Too many failed sign-ins. Try again in a minute.',
  nav: { overview: 'Overview', partners: 'Partners', documents: 'Documents', videos: 'Videos', training: 'Training', campaigns: 'Campaigns', tools: 'FAQ & tools' },
  tenant: 'Tenant', language: 'Language',
  period: 'Period', all: 'All time', last7: 'Last 7 days', last30: 'Last 30 days', last90: 'Last 90 days', custom: 'Custom',
  from: 'From', to: 'To', partner: 'Partner ID', campaign: 'Campaign ID', course: 'Course ID', apply: 'Apply', utc: 'days in UTC',
  noPeriodHere: 'This page covers all time: its saved query takes no period.',
  loading: 'Loading…',
  unavailable: part => `ClickHouse is unavailable, so “${part}” cannot be shown right now. The console keeps running; retry in a moment.`,
  failed: part => `ClickHouse could not answer “${part}”.`,
  retry: 'Retry',
  source: 'Source: saved query',
  keptAt: when => `computed at ${when} by beacon keep`,
  csv: 'Download CSV', sortBy: col => `Sort by ${col}`,
  showing: (n, all) => `Showing ${n} of ${all} rows; the CSV holds all of them.`, showMore: n => `Show ${n} more`, showAll: 'Show all',
  vsBefore: 'vs the previous period', noCompare: 'Pick a period to compare with the one before.',
  up: n => `▲ ${n} more`, down: n => `▼ ${n} fewer`, same: '= no change',
  activityEmpty: 'No events in this period.',
  kpi: { events: 'Accepted events', people: 'Active people', bots: 'Bot events (not counted)', activePartners: 'Active partners', documents: 'Documents used', videos: 'Videos used', tools: 'FAQ & tools used', completion: 'Course completion', campaigns: 'Campaigns' },
  completionOf: (c, a) => `${c} of ${a} assigned people`,
  partnersUsing: (u, a) => `${u} of ${a} partners used its contents`,
  toolsNote: 'Use is counted in days per partner. The correlation is between each partner’s days of use and its won deal amount closed in the period (— when undefined, e.g. when every partner used it); the averages compare partners that used the content with the others.',
  mostUsed: 'Content by partners reached',
  quiet: 'Partners that went quiet',
  noneQuiet: 'No partner is silent or cooling in this window.',
  status: { active: 'active', cooling: 'cooling', silent: 'silent', 'never started': 'never started' },
  statusFilter: 'Status', quietOnly: 'silent or cooling', baselineWeeks: 'Baseline (weeks)',
  window: (days, to, weeks) => `Activity in the ${days} days to ${to} (UTC), each partner and person against its own ${weeks}-week baseline just before.`,
  reason: x => x.reason,
  partnersEmpty: 'No partners yet: import partners and partner_users, or wait for partners to open what you send.',
  noStatus: 'No partner has this status in this window.',
  partnerTitle: 'Partner', partnerUnknown: 'This partner is not known (no partners row and no events).',
  people: 'People', noPeople: 'No people are known for this partner: import partner_users.',
  ofDays: (days, exp) => `of ${days} days; its baseline predicts ${exp}`, ofKnown: n => `of ${n} known`, ofPartners: n => `of ${n} partners`,
  consumed: 'What its people used', timeline: 'Every touch, newest first', timelineEmpty: 'No touches in this period.',
  deals: 'Deals', noDeals: 'No deals of this partner closed in this period (import deals to see them).',
  dealsN: 'Deals closed', wonN: 'Won', daysN: n => `${n} d`, andMore: n => `and ${n} more`,
  dealsNote: n => `Each deal with the contents the partner’s people used in the ${n} days up to its close date, most days first.`,
  personTitle: 'Person', personEmpty: 'No touches by this person in this period (or the person is not known).',
  touchesShown: n => `Touches shown: ${n} (a touch: one content on one day)`, older: 'Older touches', logEnd: 'This is the oldest touch in this period.',
  stitchedHint: 'Touches of an anonymous device before this person identified on it (identity stitching)',
  anonymous: id => `Anonymous device ${id}`, anonymousHint: 'A browser that never came through a partner link or login: no partner or person is known for it',
  yes: 'yes', no: 'no',
  reachTitle: 'Who it reached, per partner', reachEmpty: 'No partners are known yet.',
  reachNote: 'Known people (partner_users) of each partner who used it in the period, and those who did not; the partner filter does not apply here.',
  peopleReached: 'Known people reached', partnersReached: 'Partners reached',
  retentionAllTime: 'Retention counts every viewer of all time; the period applies to the reach below.',
  col: {
    content: 'Content', kind: 'Type', partners: 'Partners', partnerDays: 'Partner-days', partnersBefore: 'Partners before', lastSeen: 'Last seen', firstSeen: 'First seen',
    partner: 'Partner', person: 'Person', firstOpened: 'First opened', maxPage: 'Furthest page', pagesSeen: 'Pages seen', opens: 'Opens', dwell: 'Time spent', dwellByPage: 'Time per page',
    page: 'Page', reached: 'Reached it', readers: 'Spent time on it', pageDwell: 'Time on page', second: 'Second', viewers: 'Viewers', retention: 'Retention', drop: 'Drop', dropRank: 'Drop-off',
    course: 'Course', assigned: 'Assigned', completed: 'Completed', rate: 'Completion', notCompleted: 'Not completed',
    campaign: 'Campaign', rank: 'Rank', consumed: 'Contents used', campaignContents: 'Campaign contents', share: 'Share',
    scoredPeople: 'People scored', attempts: 'Attempts', avgScore: 'Average score', minScore: 'Lowest score', passed: 'Passed', failed: 'Failed', failedPeople: 'Who failed',
    query: 'Query', searchers: 'Searchers', zeroResults: 'Found nothing', noOpen: 'Opened nothing after', lastSearched: 'Last searched',
    version: 'Version', latest: 'Latest', firstUsed: 'First used', lastUsed: 'Last used', usedBy: 'Used by', outdated: 'Still on it (not the latest)',
    plays: 'Plays', heatmap: 'Heatmap', furthest: 'Furthest point', ended: 'Watched to the end',
    deal: 'Deal', stage: 'Stage', amount: 'Amount', closedOn: 'Closed', contentsUsed: 'Contents used', usedBefore: 'Used before the close',
    correlation: 'Correlation with won deals', wonUsers: 'Avg won (users)', wonOthers: 'Avg won (others)',
    status: 'Status', reason: 'Why', lastTouch: 'Last touch', touches: 'Touches', daysActive: 'Days active', expectedDays: 'Expected days',
    peopleActive: 'People active', wentQuiet: 'Went quiet', stopped: 'Stopped using',
    when: 'When', sessions: 'Sessions', watched: 'Watched', completionCol: 'Completion', clicks: 'Clicks', searches: 'Searches', devices: 'Devices', viaLink: 'Via link', stitched: 'Stitched',
    reachedKnown: 'Reached / known', reach: 'Reach', opened: 'Opened', notOpened: 'Not opened', otherPeople: 'Others (not in partner_users)', topPerson: 'Most touches', onePerson: 'Rests on one person',
  },
  documents: 'Documents', document: 'Document', noDocuments: 'No documents yet: none is in the contents table and no one has opened one.',
  docViewers: 'Who read it', docPages: 'Where readers stop', docNoViewers: 'Nobody has opened this document in this period (or it does not exist).',
  docChart: 'Readers who reached each page (bars) and total time on each page (line with dots)',
  truncated: n => `Only the first ${n} viewers are shown.`,
  truncatedDoc: n => `The console lists at most ${n} viewers of a document: the figures, the chart and the table below cover the first ${n}, by first open, and there may be more.`,
  viewersN: 'Viewers', partnersN: 'Partners', totalTime: 'Total time', avgFurthest: 'Average furthest page',
  videos: 'Videos', video: 'Video', noVideos: 'No videos yet: none is in the contents table and no one has played one.',
  videoNoData: 'Nobody has loaded this video yet (or it does not exist).',
  loads: 'Loads', plays: 'Plays', playRate: 'Play rate', length: 'Length',
  retentionChart: 'Share of viewers still watching at each second; numbered circles mark the five largest drop-offs',
  dropOffs: 'Drop-off points', noDrops: 'No viewer left before the end.',
  perSecond: 'Every second',
  videoViewers: 'Who watched it', videoNoViewers: 'Nobody has loaded this video yet (or it does not exist).',
  pickViewer: 'Pick a viewer to see the seconds they watched, replays marked.', showHeatmap: 'Heatmap',
  heatmapOf: 'Seconds watched by', heatmapChart: 'Times this viewer played each second (bars); ↻ and the darker bars mark the seconds played more than once',
  noPlays: 'This viewer loaded the video but played none of it.', secondsWatched: 'Seconds watched', ofSeconds: n => `of ${n}`, replayedSeconds: 'Seconds replayed',
  watchedOnce: 'Played once', replayed: 'Replayed',
  training: 'Training completion', trainingEmpty: 'No course assignments match: import course_assignments to see completion.',
  notCompletedList: 'People who have not completed', allCompleted: 'Everyone assigned has completed.',
  campaigns: 'Campaign consumption', campaignsEmpty: 'No campaign contents match: import campaigns and contents, or mint tracked links with beacon link.',
  tools: 'FAQ and tools', toolsEmpty: 'No FAQ or tool content was used in this period.',
  scores: 'Test scores', scoresEmpty: 'No scored attempt matches: a course or test reports one with beacon.complete(id, { score, passed }).',
  scoresNote: 'Per course and partner. Average and lowest score over every scored attempt; passed and failed count people by their latest attempt, so someone who failed and then passed has passed.',
  searchGaps: 'What partners search for and do not find', searchesEmpty: 'No search was recorded in this period: the snippet records one with beacon.search(query, results).',
  searchNote: 'Per partner and query, most searched first. Found nothing: searches with no result. Opened nothing after: searches followed by no open within 30 minutes.',
  anonymousSearch: 'No partner known',
  docVersions: 'Versions in use', toolVersions: 'Versions of the tools in use',
  versionsEmpty: 'No version is reported: give the snippet the content’s version (the content-version option, or the adapters’ version) to compare versions.',
  versionsNote: 'Over all time (the period does not apply). The latest version is the one first used last. A partner is still on a version when its latest use is that version while a newer one exists.',
  scoresPick: 'Choose a course (a course in the table above, or the Course ID filter) or a partner to see test scores.',
  overviewEmpty: 'No content is known for this tenant yet. Once partners open what you send them, it shows here.',
  notFound: 'Not found.',
  sec: 's',
};

const ja = {
  title: 'beacon コンソール',
  signIn: 'サインイン', signOut: 'サインアウト', name: 'ユーザー名', password: 'パスワード',
  badLogin: 'ユーザー名またはパスワードが違います。', tooMany: 'サインインの失敗が多すぎます。1分ほど待ってからお試しください。',
  nav: { overview: '概要', partners: 'パートナー', documents: '資料', videos: '動画', training: '研修', campaigns: 'キャンペーン', tools: 'FAQ・ツール' },
  tenant: 'テナント', language: '言語',
  period: '期間', all: '全期間', last7: '過去7日間', last30: '過去30日間', last90: '過去90日間', custom: '指定',
  from: '開始日', to: '終了日', partner: 'パートナーID', campaign: 'キャンペーンID', course: 'コースID', apply: '適用', utc: '日付はUTC',
  noPeriodHere: 'このページは全期間が対象です(保存クエリに期間の指定がありません)。',
  loading: '読み込み中…',
  unavailable: part => `ClickHouse に接続できないため「${part}」を表示できません。コンソールは動作を続けています。しばらくしてから再試行してください。`,
  failed: part => `ClickHouse が「${part}」に応答できませんでした。`,
  retry: '再試行',
  source: '出典: 保存クエリ',
  keptAt: when => `${when} に beacon keep が集計`,
  csv: 'CSVをダウンロード', sortBy: col => `${col}で並べ替え`,
  showing: (n, all) => `${all} 行中 ${n} 行を表示(CSV にはすべて含まれます)`, showMore: n => `さらに ${n} 行`, showAll: 'すべて表示',
  vsBefore: '前の期間との比較', noCompare: '期間を選ぶと前の期間と比較できます。',
  up: n => `▲ ${n} 増`, down: n => `▼ ${n} 減`, same: '= 変化なし',
  activityEmpty: 'この期間のイベントはありません。',
  kpi: { events: '受け付けたイベント', people: 'アクティブな担当者', bots: 'ボットのイベント(集計外)', activePartners: 'アクティブなパートナー', documents: '閲覧された資料', videos: '視聴された動画', tools: '利用されたFAQ・ツール', completion: '研修の修了率', campaigns: 'キャンペーン' },
  completionOf: (c, a) => `対象者 ${a} 人中 ${c} 人が修了`,
  partnersUsing: (u, a) => `${a} 社中 ${u} 社がコンテンツを利用`,
  toolsNote: '利用はパートナーごとの利用日数で数えます。相関は各パートナーの利用日数と、期間内に受注した金額との相関です(全パートナーが利用した場合など、定義できないときは —)。平均受注額は利用したパートナーとそれ以外を比べます。',
  mostUsed: 'パートナーに届いたコンテンツ',
  quiet: '活動が止まったパートナー',
  noneQuiet: 'この期間に停止・低下中のパートナーはいません。',
  status: { active: 'アクティブ', cooling: '低下中', silent: '停止', 'never started': '未開始' },
  statusFilter: '状態', quietOnly: '停止または低下中', baselineWeeks: 'ベースライン(週)',
  window: (days, to, weeks) => `${to} までの ${days} 日間(UTC)の活動。各パートナー・担当者を、それぞれの直前 ${weeks} 週間のベースラインと比べています。`,
  // the query's reason in Japanese, from the same figures
  reason: (x, p, i) => {
    const day = v => i.day(String(v).slice(0, 10));
    if (x.status === 'never started') return `${day(p.to)} まで接触なし`;
    if (x.status === 'silent' && x.baseline_days === 0) return `${day(x.last_touch)} 以降接触なし(${i.num(p.baseline_weeks)} 週間のベースラインより前)`;
    if (x.status === 'silent') return `${day(p.to)} までの ${i.num(p.days)} 日間に接触なし。ベースラインの予測は ${i.num(x.expected_days)} 日。最終接触 ${day(x.last_touch)}`;
    if (x.baseline_days === 0) return `${i.num(p.days)} 日中 ${i.num(x.days_active)} 日アクティブ。ベースラインなし(直前 ${i.num(p.baseline_weeks)} 週間に接触なし)`;
    return `${i.num(p.days)} 日中 ${i.num(x.days_active)} 日アクティブ。ベースラインの予測は ${i.num(x.expected_days)} 日`;
  },
  partnersEmpty: 'パートナーはまだいません。partners と partner_users をインポートするか、パートナーが資料を開くのをお待ちください。',
  noStatus: 'この期間にこの状態のパートナーはいません。',
  partnerTitle: 'パートナー', partnerUnknown: 'このパートナーは見つかりません(partners にも記録にもありません)。',
  people: '担当者', noPeople: 'このパートナーの担当者は登録されていません。partner_users をインポートしてください。',
  ofDays: (days, exp) => `${days} 日中。ベースラインの予測は ${exp} 日`, ofKnown: n => `登録 ${n} 人中`, ofPartners: n => `${n} 社中`,
  consumed: '担当者が利用したもの', timeline: 'すべての接触(新しい順)', timelineEmpty: 'この期間の接触はありません。',
  deals: '商談', noDeals: 'この期間にクローズしたこのパートナーの商談はありません(deals をインポートすると表示されます)。',
  dealsN: 'クローズした商談', wonN: '受注', daysN: n => `${n} 日`, andMore: n => `ほか ${n} 件`,
  dealsNote: n => `各商談と、クローズ日までの ${n} 日間にパートナーの担当者が利用したコンテンツ(利用日数の多い順)。`,
  personTitle: '担当者', personEmpty: 'この期間にこの担当者の接触はありません(または担当者が見つかりません)。',
  touchesShown: n => `${n} 件の接触を表示(接触: 1日に1つのコンテンツの利用)`, older: 'さらに古い接触', logEnd: 'この期間で最も古い接触です。',
  stitchedHint: 'この担当者が本人確認する前の、匿名の端末からの接触(ID の統合)',
  anonymous: id => `匿名の端末 ${id}`, anonymousHint: 'パートナーのリンクやログインを経由していないブラウザ(パートナーも担当者も不明)',
  yes: 'はい', no: 'いいえ',
  reachTitle: 'パートナーごとの到達', reachEmpty: 'パートナーはまだ登録されていません。',
  reachNote: '各パートナーの登録済み担当者(partner_users)のうち、期間内に利用した人と利用していない人。パートナーの絞り込みはここには適用されません。',
  peopleReached: '到達した登録担当者', partnersReached: '到達したパートナー',
  retentionAllTime: '視聴維持率は全期間のすべての視聴者で数えます。期間は下の到達に適用されます。',
  col: {
    content: 'コンテンツ', kind: '種類', partners: 'パートナー数', partnerDays: 'パートナー日数', partnersBefore: '前期間のパートナー数', lastSeen: '最終閲覧', firstSeen: '初回閲覧',
    partner: 'パートナー', person: '担当者', firstOpened: '初回表示', maxPage: '到達ページ', pagesSeen: '閲覧ページ数', opens: '表示回数', dwell: '閲覧時間', dwellByPage: 'ページ別閲覧時間',
    page: 'ページ', reached: '到達者数', readers: '閲覧者数', pageDwell: 'ページ閲覧時間', second: '秒', viewers: '視聴者数', retention: '視聴維持率', drop: '減少', dropRank: '離脱ポイント',
    course: 'コース', assigned: '対象者', completed: '修了者', rate: '修了率', notCompleted: '未修了者',
    campaign: 'キャンペーン', rank: '順位', consumed: '利用コンテンツ数', campaignContents: 'キャンペーンのコンテンツ数', share: '利用率',
    scoredPeople: '採点された担当者', attempts: '受験回数', avgScore: '平均点', minScore: '最低点', passed: '合格', failed: '不合格', failedPeople: '不合格の人',
    query: '検索語', searchers: '検索した人', zeroResults: '結果なし', noOpen: '検索後に開かず', lastSearched: '最終検索',
    version: 'バージョン', latest: '最新', firstUsed: '初回利用', lastUsed: '最終利用', usedBy: '利用したパートナー', outdated: 'まだ使っている(最新でない)',
    plays: '再生回数', heatmap: 'ヒートマップ', furthest: '最も進んだ位置', ended: '最後まで視聴',
    deal: '商談', stage: 'ステージ', amount: '金額', closedOn: 'クローズ日', contentsUsed: '利用コンテンツ数', usedBefore: 'クローズ前に利用',
    correlation: '受注との相関', wonUsers: '平均受注額(利用)', wonOthers: '平均受注額(未利用)',
    status: '状態', reason: '理由', lastTouch: '最終接触', touches: '接触数', daysActive: 'アクティブ日数', expectedDays: '予測日数',
    peopleActive: 'アクティブな担当者', wentQuiet: '止まった担当者', stopped: '利用をやめたコンテンツ',
    when: '日時', sessions: 'セッション', watched: '視聴', completionCol: '完了度', clicks: 'クリック', searches: '検索', devices: '端末', viaLink: 'リンク経由', stitched: '統合',
    reachedKnown: '到達 / 登録', reach: '到達率', opened: '開いた人', notOpened: '開いていない人', otherPeople: 'その他(未登録)', topPerson: '最多の接触', onePerson: '1人に依存',
  },
  documents: '資料', document: '資料', noDocuments: '資料はまだありません。contents テーブルにも、閲覧の記録にもありません。',
  docViewers: '閲覧した人', docPages: '読者が離れるページ', docNoViewers: 'この期間にこの資料を開いた人はいません(または資料が存在しません)。',
  docChart: '各ページに到達した読者数(棒)と各ページの合計閲覧時間(点付きの線)',
  truncated: n => `最初の ${n} 人のみ表示しています。`,
  truncatedDoc: n => `コンソールが一つの資料について表示する閲覧者は最大 ${n} 人です。以下の数値・グラフ・表は最初に開いた ${n} 人の分で、ほかにも閲覧者がいる可能性があります。`,
  viewersN: '閲覧者', partnersN: 'パートナー', totalTime: '合計閲覧時間', avgFurthest: '平均到達ページ',
  videos: '動画', video: '動画', noVideos: '動画はまだありません。contents テーブルにも、再生の記録にもありません。',
  videoNoData: 'この動画を読み込んだ人はまだいません(または動画が存在しません)。',
  loads: '読み込み', plays: '再生', playRate: '再生率', length: '長さ',
  retentionChart: '各秒で視聴を続けている視聴者の割合。番号付きの丸は離脱の大きい上位5か所',
  dropOffs: '離脱ポイント', noDrops: '最後まで離脱した視聴者はいません。',
  perSecond: '秒ごと',
  videoViewers: '視聴した人', videoNoViewers: 'この動画を読み込んだ人はまだいません(または動画が存在しません)。',
  pickViewer: '視聴者を選ぶと、その人が視聴した秒(繰り返し視聴を含む)を表示します。', showHeatmap: 'ヒートマップ',
  heatmapOf: '視聴した秒:', heatmapChart: 'この視聴者が各秒を再生した回数(棒)。↻ と濃い棒は2回以上再生した秒',
  noPlays: 'この視聴者は動画を読み込みましたが、再生していません。', secondsWatched: '視聴した秒数', ofSeconds: n => `${n} 秒中`, replayedSeconds: '繰り返し視聴した秒数',
  watchedOnce: '1回再生', replayed: '繰り返し視聴',
  training: '研修の修了状況', trainingEmpty: '該当する研修の割り当てがありません。course_assignments をインポートすると修了率が表示されます。',
  notCompletedList: '未修了の人', allCompleted: '対象者は全員修了しています。',
  campaigns: 'キャンペーンの利用状況', campaignsEmpty: '該当するキャンペーンのコンテンツがありません。campaigns と contents をインポートするか、beacon link でトラッキングリンクを作成してください。',
  tools: 'FAQ・ツール', toolsEmpty: 'この期間に利用された FAQ・ツールはありません。',
  scores: 'テストの得点', scoresEmpty: '採点された受験がありません。コースやテストは beacon.complete(id, { score, passed }) で得点を送れます。',
  scoresNote: 'コースとパートナーごと。平均点と最低点は採点されたすべての受験から。合格・不合格は各担当者の最新の受験で数えます(不合格のあと合格した人は合格)。',
  searchGaps: 'パートナーが検索して見つからないもの', searchesEmpty: 'この期間の検索の記録はありません。スニペットの beacon.search(query, results) で記録されます。',
  searchNote: 'パートナーと検索語ごと、検索の多い順。結果なし:結果が0件の検索。検索後に開かず:30分以内に何も開かれなかった検索。',
  anonymousSearch: 'パートナー不明',
  docVersions: '利用中のバージョン', toolVersions: '利用中のツールのバージョン',
  versionsEmpty: 'バージョンは送られていません。スニペットにコンテンツのバージョン(content-version オプション、またはアダプターの version)を渡すと比較できます。',
  versionsNote: '全期間(期間の指定は適用されません)。最新のバージョンは最後に使われ始めたもの。新しいバージョンがあるのに最後の利用が古いバージョンのパートナーは「まだ使っている」に表示されます。',
  scoresPick: 'テストの得点を見るには、コース(上の表のコース、またはコース ID の指定)かパートナーを選んでください。',
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
  const corr = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // seconds with tenths (under 10 s) and whole: made once, as every formatter here (a
  // document's viewers table formats thousands of durations, and making a formatter costs
  // far more than formatting)
  const secs1 = new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 1 });
  const secs0 = new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 0 });
  return {
    lang, t,
    num: v => (v === null || v === undefined || v === '' ? '—' : nf.format(Number(v))),
    pct: v => (v === null || v === undefined || v === '' ? '—' : pf.format(Number(v))),
    money: v => (v === null || v === undefined || v === '' ? '—' : money.format(Number(v))),
    corr: v => (v === null || v === undefined || v === '' ? '—' : corr.format(Number(v))),
    time: v => (v ? df.format(new Date(v)) : '—'),
    day: v => (v ? dayf.format(new Date(v + 'T00:00:00Z')) : '—'),
    // milliseconds as a duration: under a minute in seconds (tenths below 10 s), else
    // hours, minutes and seconds
    dur: ms => {
      if (ms === null || ms === undefined || ms === '') return '—';
      ms = Number(ms);
      if (ms < 59500) {
        return ms < 10000 ? secs1.format(Math.round(ms / 100) / 10) : secs0.format(Math.round(ms / 1000));
      }
      let s = Math.round(ms / 1000);
      const h = Math.floor(s / 3600); s -= h * 3600;
      const m = Math.floor(s / 60); s -= m * 60;
      if (durf) return durf.format(h ? { hours: h, minutes: m, seconds: s } : { minutes: m, seconds: s });
      return [h && `${h} h`, `${m} min`, `${s} s`].filter(Boolean).join(' ');
    },
  };
}
