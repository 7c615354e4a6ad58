// The shapes of what the server sends, as JSDoc types for the type check
// (scripts/lint_web.sh). No code: pages import these with `@import`, and the
// browser never loads this file. docs/protocol.md is the reference; the state
// body is built by server/game/views.py and server/game/stories.py.

/**
 * @typedef {"lobby" | "riddle" | "story" | "whoswho" | "between_rounds" | "finished" | "closed"} Phase
 * @typedef {"correct" | "near" | "wrong"} Verdict
 */

// ---- the state body ---------------------------------------------------------------------

/**
 * A team's row of the scoreboard (`state.teams`, best first).
 * @typedef {object} Team
 * @property {string} id
 * @property {string} name
 * @property {number} score
 * @property {number} rank
 * @property {number} delta points won by the current riddle or story
 * @property {number} players_count
 * @property {Player[]} players every member, or (players in a big room) only those of their own team
 */

/**
 * @typedef {object} Player
 * @property {string} id
 * @property {string} name
 * @property {boolean} present
 * @property {number} points
 * @property {number} [connections] host only
 */

/**
 * @typedef {object} PackInfo
 * @property {string} id
 * @property {string} title
 * @property {string} language
 * @property {{kind: string, title: string}[]} rounds
 */

/**
 * @typedef {object} RoundInfo
 * @property {number} index
 * @property {number} count
 * @property {string} kind
 * @property {string} title
 */

/**
 * Something worth telling: a team solved a riddle, a story was revealed...
 * @typedef {object} Moment
 * @property {number} seq
 * @property {string} kind
 * @property {number} at server time, seconds
 * @property {string | null} [team_id]
 * @property {string | null} [player_id]
 * @property {string | null} [text]
 */

/**
 * A room as one audience (host, screen or one player's team) sees it.
 * @typedef {object} RoomState
 * @property {string} code
 * @property {string} name
 * @property {Phase} phase
 * @property {boolean} locked
 * @property {number} seq
 * @property {number} server_time
 * @property {boolean} auto_advance
 * @property {PackInfo | null} pack
 * @property {RoundInfo | null} round
 * @property {Team[]} teams
 * @property {number} players_count
 * @property {Moment[]} moments
 * @property {Riddle | null} riddle
 * @property {Story | null} story
 * @property {PairingSummary | null} [pairing] while a coffee pairing runs
 * @property {WhosWho | null} [whoswho] while a "Who's who" round runs
 */

// ---- "Who's who" ------------------------------------------------------------------------

/**
 * A "Who's who" round as one audience sees it: never an author before the reveal.
 * @typedef {object} WhosWho
 * @property {number} round_index
 * @property {"answering" | "open" | "revealed"} stage
 * @property {string[]} prompts
 * @property {number} max_answers
 * @property {number} answered players who gave answers
 * @property {number} skipped players who skipped
 * @property {number} count questions played (0 while answering)
 * @property {WhosWhoQuestion | null} question
 * @property {{id: string, prompt: number, text: string, hidden: boolean}[]} [review] host only, while answering
 */

/**
 * @typedef {object} WhosWhoQuestion
 * @property {number} index
 * @property {string} text the answer: "Who wrote this?"
 * @property {number} prompt its prompt's index
 * @property {number} time_limit
 * @property {number} points
 * @property {number} started_at
 * @property {number} deadline_at
 * @property {boolean} paused the host has stopped its clock: no answer is taken
 * @property {number} remaining seconds left (what counts while paused)
 * @property {string[]} answered_teams
 * @property {{chosen: string, chosen_name: string, by: string, by_name: string}} [team] a player's own team's choice
 * @property {WhosWhoReveal} [reveal] once revealed
 */

/**
 * @typedef {object} WhosWhoReveal
 * @property {{id: string, name: string, team_id: string, team_name: string}} author
 * @property {string} line
 * @property {string} end_reason
 * @property {{team_id: string, chosen: string, correct: boolean, points: number}[]} teams
 */

/**
 * A player's own answers, in their `you` message.
 * @typedef {object} YourWhosWho
 * @property {boolean} answered
 * @property {{prompt: number, text: string, hidden: boolean}[]} answers
 * @property {string} line
 * @property {boolean} own_question the open question is yours
 */

// ---- coffee pairing -------------------------------------------------------------------

/**
 * What every view shows of a running coffee pairing (the host also gets `assignment`).
 * @typedef {object} PairingSummary
 * @property {number} rotation the session's pairing number, from 1
 * @property {number} groups how many groups (breakout rooms)
 * @property {number} players how many players are paired
 * @property {string} prompt
 * @property {boolean} mentoring
 * @property {number} started_at
 * @property {number} seconds
 * @property {number} deadline_at
 * @property {PairingAssignment} [assignment] host only
 */

/**
 * @typedef {object} PairingAssignment
 * @property {{breakout: number, players: {id: string, name: string}[]}[]} groups
 * @property {{en: string, it: string}} text the groups as text to paste into the meeting tool
 */

/**
 * A player's own group, in their `you` message.
 * @typedef {object} YourPairing
 * @property {number} rotation
 * @property {number} breakout the breakout room's number
 * @property {{id: string, name: string, team_id: string, team_name: string}[]} with
 * @property {string} prompt
 * @property {number} started_at
 * @property {number} seconds
 * @property {number} deadline_at
 */

/** @typedef {"newcomer" | "experienced"} MentoringRole */

// ---- riddles ----------------------------------------------------------------------------

/**
 * @typedef {object} Hint
 * @property {number} index
 * @property {number} after seconds into the riddle when it unlocks
 * @property {number} cost
 * @property {boolean} unlocked
 * @property {string} [text] for the host, the team that opened it, and everyone after the reveal
 */

/**
 * @typedef {object} Guess
 * @property {number} index
 * @property {string} player_id
 * @property {string} player_name
 * @property {string} text
 * @property {Verdict} verdict
 * @property {string | null} nudge
 * @property {number} elapsed
 * @property {boolean} accepted_by_host
 */

/**
 * A team's attempt at the riddle, as that team (`riddle.team`) sees it.
 * @typedef {object} TeamAttempt
 * @property {Guess[]} guesses
 * @property {number} hints_opened
 * @property {boolean} solved
 * @property {number} points
 * @property {boolean} locked_out
 */

/**
 * Another team's progress, as everyone sees it.
 * @typedef {object} Progress
 * @property {boolean} solved
 * @property {number | null} elapsed
 * @property {number} hints_opened
 * @property {number} guesses
 */

/**
 * @typedef {object} Solver
 * @property {string} team_id
 * @property {string | null} player_id
 * @property {number} elapsed
 * @property {number} points
 */

/**
 * @typedef {object} Reveal
 * @property {string} answer
 * @property {string} explanation
 * @property {string} end_reason
 * @property {Solver[]} solvers fastest first (by exact time)
 * @property {string | null} first_solver the team that solved first and got the bonus
 * @property {number[]} spread how many teams chose each option first
 */

/**
 * @typedef {object} Riddle
 * @property {number} round_index
 * @property {number} index
 * @property {number} count
 * @property {"open" | "revealed"} stage
 * @property {string} text
 * @property {number} time_limit
 * @property {number} points
 * @property {number} deadline_at server time, seconds
 * @property {boolean} paused
 * @property {number} remaining seconds left (what counts while paused)
 * @property {string[]} options
 * @property {Hint[]} hints
 * @property {Record<string, Progress>} progress by team id
 * @property {TeamAttempt} [team] players: their own team's attempt
 * @property {{answers: string[], explanation: string}} [secret] host only
 * @property {Record<string, Guess[]>} [guesses] host only: every team's guesses
 * @property {Reveal} [reveal] once revealed
 */

// ---- stories ----------------------------------------------------------------------------

/**
 * @typedef {object} StoryPrompt
 * @property {string[]} must_include
 * @property {string} theme
 * @property {string} [opening] not shown while a chain story is written
 */

/**
 * A line; a hidden one keeps its text only for the host.
 * @typedef {object} StoryLine
 * @property {number} index
 * @property {boolean} hidden
 * @property {string} [player_id]
 * @property {string} [text]
 */

/**
 * One team's story. Who sees which fields: see `_team_view` in server/game/stories.py.
 * @typedef {object} TeamStory
 * @property {string} team_id
 * @property {string} name
 * @property {string | null} writer the player whose turn it is
 * @property {number | null} turn_deadline_at
 * @property {number | null} seconds_left while paused
 * @property {number} lines_count
 * @property {number} turns_done
 * @property {boolean} done
 * @property {boolean} revealed
 * @property {StoryPrompt} [prompt]
 * @property {{text: string, player_id: string | null, opening: boolean}} [previous_line] the writer of a chain story
 * @property {StoryLine[]} [lines]
 * @property {{id: string, name: string}[]} [writers]
 */

/**
 * @typedef {object} Story
 * @property {number} round_index
 * @property {string} title
 * @property {"full" | "chain"} visibility
 * @property {number} max_chars
 * @property {number} seconds_per_turn
 * @property {number} turns_per_player
 * @property {"writing" | "reveal" | "voting" | "results"} stage
 * @property {boolean} paused
 * @property {number} reveal_index
 * @property {string[]} reveal_order team ids
 * @property {number | null} vote_deadline_at
 * @property {Record<string, TeamStory>} teams by team id
 * @property {string[]} [voters] player ids, once voting opened
 * @property {Record<string, number>} [live_counts] host only, while voting
 * @property {Record<string, number>} [vote_counts] results
 * @property {Record<string, number>} [points] results
 * @property {string[]} [winners] results
 */

// ---- messages ---------------------------------------------------------------------------

/**
 * @typedef {object} PlayerRef
 * @property {string} id
 * @property {string} name
 * @property {string} team_id
 */

/**
 * @typedef {object} WelcomeMessage
 * @property {"welcome"} type
 * @property {"player" | "host" | "screen"} role
 * @property {string} room
 * @property {number} server_time
 * @property {string} [token] a new player's resume token
 * @property {PlayerRef} [player]
 * @property {{id: string, name: string}} [circle] players, in a room opened in a circle
 */

/**
 * A player's private details.
 * @typedef {object} YouMessage
 * @property {"you"} type
 * @property {PlayerRef & {points: number, mentoring_role?: MentoringRole | null}} player
 * @property {YourPairing | null} [pairing] your coffee pairing group, while one runs
 * @property {YourWhosWho | null} [whoswho] your "Who's who" answers, in that round
 * @property {string | null} [my_vote]
 * @property {{team_id: string, deadline_at: number | null, paused: boolean, seconds_left: number | null} | null} [your_turn]
 */

/**
 * @typedef {object} NoticeMessage
 * @property {"notice"} type
 * @property {string} code one of NOTICE (protocol.js)
 * @property {string} message
 */

/**
 * @typedef {object} StateMessage
 * @property {"state"} type
 * @property {number} seq
 * @property {RoomState} state
 */

/**
 * The changes that turn the state at seq `base` into the state at seq `seq` (see patches.js).
 * @typedef {object} PatchMessage
 * @property {"patch"} type
 * @property {number} seq
 * @property {number} base
 * @property {unknown[][]} ops
 */

/**
 * @typedef {object} AckMessage
 * @property {"ack"} type
 * @property {string | number | null} id
 * @property {string} [of]
 * @property {Record<string, unknown> | null} [result]
 */

/**
 * @typedef {object} ErrorMessage
 * @property {"error"} type
 * @property {string | number | null} [id]
 * @property {string} code one of ERROR (protocol.js)
 * @property {string} message
 */

/**
 * @typedef {object} PongMessage
 * @property {"pong"} type
 * @property {string | number | null} id
 * @property {number} server_time
 */

/**
 * @typedef {object} RemovedMessage
 * @property {"removed"} type
 * @property {string} [reason]
 */

/**
 * Every frame the server sends.
 * @typedef {WelcomeMessage | StateMessage | PatchMessage | YouMessage | AckMessage | ErrorMessage | PongMessage | RemovedMessage | NoticeMessage} ServerMessage
 */

/**
 * What the `ack` of a command carries as its `result`, for the commands whose
 * ack carries one (the others: {}).
 * @typedef {object} AckResults
 * @property {{verdict: Verdict, nudge: string | null, points: number}} guess
 * @property {{hint: number}} hint
 * @property {{team: string}} create_team
 * @property {{step: string}} next
 */

/**
 * An `error` frame, an HTTP error body, or a failure of the client itself
 * (codes "offline", "timeout", "disconnected", "closed").
 * @typedef {object} WireError
 * @property {string} code
 * @property {string} message
 * @property {{file: string, line: number | null, field: string, message: string, cell?: string}[]} [problems] invalid_pack only (cell: a spreadsheet's, e.g. "Sheet1!B9")
 */

// ---- HTTP -------------------------------------------------------------------------------

/**
 * GET /api/rooms/CODE
 * @typedef {object} RoomInfo
 * @property {string} code
 * @property {string} name
 * @property {Phase} phase
 * @property {boolean} locked
 * @property {number} players_count
 * @property {{id: string, name: string, players_count: number}[]} teams
 * @property {{id: string, title: string, language: string} | null} pack
 * @property {{id: string, name: string} | null} [circle] the circle the room was opened in
 * @property {string} join_url
 * @property {string} screen_url
 * @property {string} host_url
 * @property {string} ws_url
 */

/**
 * An entry of GET /api/packs.
 * @typedef {object} PackSummary
 * @property {string} id
 * @property {string} title
 * @property {string} language
 * @property {string} description
 * @property {string} author
 * @property {{kind: string, title: string, items: number}[]} rounds
 * @property {number} riddles all the riddles of the pack
 * @property {string[]} kinds its kinds of round, each once: "riddles", "story"
 * @property {number} minutes estimated length of a game
 * @property {boolean} template a template whose {{PLACEHOLDERS}} must be filled in before playing
 */

export {};
