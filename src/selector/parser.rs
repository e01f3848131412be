//! Precedence-climbing parser from tokens to the AST, with the static checks JMS asks for.
//!
//! Precedence climbing rather than one function per grammar level (see the grammar in the
//! module doc): a parenthesis costs two stack frames ([`Parser::expr`] and
//! [`Parser::prefix`]) instead of eight, and both are kept lean (everything that does not
//! recurse lives in helpers), so [`MAX_DEPTH`] levels fit a small thread stack even in a
//! debug build.
//!
//! Two limits keep the parser and the evaluator off deep recursion: `depth` counts the
//! nested constructs the parser is inside (parentheses, `NOT`, unary signs), and every node
//! carries its height, which may not exceed [`MAX_DEPTH`] either (a long `a+a+a+…` chain is
//! parsed by a loop but would make a deep tree). `AND`/`OR` chains are flattened into one
//! n-ary node, so a long list of alternatives stays shallow.

use super::ast::{ArithOp, CmpOp, Ident, Literal, Node, Pattern};
use super::lexer::{Keyword, Token, TokenKind};
use super::{SelectorError, MAX_DEPTH};

/// What the parser knows about an expression's type before any message is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Bool,
    Num,
    Str,
    /// An identifier: its type depends on the message.
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Num => "a number",
            Ty::Str => "a string",
            Ty::Any => "an identifier",
        }
    }
}

/// Binding strength, weakest first. NOT is a prefix at `Not`; comparisons, BETWEEN, IN,
/// LIKE and IS NULL share `Predicate` and do not chain.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const PREDICATE: u8 = 4;
const ADDITIVE: u8 = 5;
const MULTIPLICATIVE: u8 = 6;

/// A parsed expression with what the checks need.
struct Expr {
    node: Node,
    ty: Ty,
    /// Character offset where the expression starts.
    pos: usize,
    height: usize,
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
}

pub(crate) fn parse(tokens: Vec<Token>) -> Result<Node, SelectorError> {
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    let expr = parser.expr(OR)?;
    let token = parser.peek();
    if token.kind != TokenKind::Eof {
        return Err(unexpected(token, "an operator or the end of the selector"));
    }
    check_boolean(&expr, "the selector")?;
    Ok(expr.node)
}

/// The infix and postfix operators, as `expr` sees them.
enum Op {
    Or,
    And,
    Cmp(CmpOp),
    /// BETWEEN, IN, LIKE, IS, possibly after NOT.
    Predicate,
    Arith(ArithOp),
}

impl Op {
    fn precedence(&self) -> u8 {
        match self {
            Op::Or => OR,
            Op::And => AND,
            Op::Cmp(_) | Op::Predicate => PREDICATE,
            Op::Arith(ArithOp::Add | ArithOp::Sub) => ADDITIVE,
            Op::Arith(ArithOp::Mul | ArithOp::Div) => MULTIPLICATIVE,
        }
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with Eof, and `bump` never moves past it.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn peek_kind(&self) -> &TokenKind {
        &self.peek().kind
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.next += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        *self.peek_kind() == TokenKind::Keyword(keyword)
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Result<Token, SelectorError> {
        let token = self.bump();
        if token.kind == kind {
            Ok(token)
        } else {
            Err(unexpected(&token, expected))
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), SelectorError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The operator at the cursor, if any.
    fn operator(&self) -> Option<Op> {
        Some(match self.peek_kind() {
            TokenKind::Keyword(Keyword::Or) => Op::Or,
            TokenKind::Keyword(Keyword::And) => Op::And,
            TokenKind::Eq => Op::Cmp(CmpOp::Eq),
            TokenKind::Ne => Op::Cmp(CmpOp::Ne),
            TokenKind::Lt => Op::Cmp(CmpOp::Lt),
            TokenKind::Le => Op::Cmp(CmpOp::Le),
            TokenKind::Gt => Op::Cmp(CmpOp::Gt),
            TokenKind::Ge => Op::Cmp(CmpOp::Ge),
            TokenKind::Keyword(Keyword::Between | Keyword::In | Keyword::Like | Keyword::Is) => {
                Op::Predicate
            }
            // NOT here can only start `NOT BETWEEN`, `NOT IN` or `NOT LIKE`.
            TokenKind::Keyword(Keyword::Not) => match self.tokens.get(self.next + 1)?.kind {
                TokenKind::Keyword(Keyword::Between | Keyword::In | Keyword::Like) => Op::Predicate,
                _ => return None,
            },
            TokenKind::Plus => Op::Arith(ArithOp::Add),
            TokenKind::Minus => Op::Arith(ArithOp::Sub),
            TokenKind::Star => Op::Arith(ArithOp::Mul),
            TokenKind::Slash => Op::Arith(ArithOp::Div),
            _ => return None,
        })
    }

    /// An expression whose operators all bind at least as strongly as `min`.
    ///
    /// This and the functions it recurses through stay small and end in tail calls: in a
    /// debug build every temporary gets its own stack slot, and a nesting level costs the
    /// sum of these frames.
    fn expr(&mut self, min: u8) -> Result<Expr, SelectorError> {
        let mut left = self.prefix(min <= NOT)?;
        // After an operator of precedence p, the right operand has taken every operator
        // binding more strongly, except a second predicate (`a = b = c`, `t AND a = b = c`):
        // comparisons do not chain. Such an operator is left for the caller to report.
        let mut ceiling = u8::MAX;
        while let Some(op) = self.operator() {
            let precedence = op.precedence();
            if precedence < min || precedence > ceiling {
                break;
            }
            left = self.infix(left, op)?;
            ceiling = if precedence == PREDICATE {
                PREDICATE - 1
            } else {
                precedence
            };
        }
        Ok(left)
    }

    fn infix(&mut self, left: Expr, op: Op) -> Result<Expr, SelectorError> {
        match op {
            Op::Or | Op::And => self.logical(left, op),
            Op::Cmp(cmp) => self.comparison(left, cmp),
            Op::Predicate => self.predicate(left),
            Op::Arith(arith_op) => self.arithmetic(left, arith_op),
        }
    }

    fn comparison(&mut self, left: Expr, op: CmpOp) -> Result<Expr, SelectorError> {
        let token = self.bump();
        let right = self.expr(ADDITIVE)?;
        comparison(op, &token, left, right)
    }

    fn arithmetic(&mut self, left: Expr, op: ArithOp) -> Result<Expr, SelectorError> {
        let token = self.bump();
        let min = match op {
            ArithOp::Add | ArithOp::Sub => MULTIPLICATIVE,
            // Above every binary operator: only a prefix expression.
            ArithOp::Mul | ArithOp::Div => MULTIPLICATIVE + 1,
        };
        let right = self.expr(min)?;
        arith(op, &token, left, right)
    }

    /// A chain of one logical operator, flattened into one node.
    fn logical(&mut self, first: Expr, op: Op) -> Result<Expr, SelectorError> {
        let (keyword, name, operand_min) = match op {
            Op::Or => (Keyword::Or, "an operand of OR", AND),
            _ => (Keyword::And, "an operand of AND", NOT),
        };
        check_boolean(&first, name)?;
        let (pos, mut height) = (first.pos, first.height);
        let mut operands = vec![first.node];
        while self.at_keyword(keyword) {
            self.bump();
            let next = self.expr(operand_min)?;
            check_boolean(&next, name)?;
            height = height.max(next.height);
            operands.push(next.node);
        }
        let node_kind = match op {
            Op::Or => Node::Or(operands),
            _ => Node::And(operands),
        };
        node(node_kind, Ty::Bool, pos, height + 1)
    }

    /// A literal, an identifier, a parenthesized expression, or one of them under NOT or a
    /// sign. `allow_not`: NOT is only valid where a condition is (not as `a = NOT b`).
    fn prefix(&mut self, allow_not: bool) -> Result<Expr, SelectorError> {
        match self.peek_kind() {
            TokenKind::Keyword(Keyword::Not) if allow_not => self.not(),
            TokenKind::LParen => self.parenthesized(),
            TokenKind::Minus | TokenKind::Plus => self.signed(),
            _ => self.operand(),
        }
    }

    fn not(&mut self) -> Result<Expr, SelectorError> {
        let pos = self.bump().pos;
        self.enter(pos)?;
        let operand = self.expr(NOT)?;
        self.leave();
        negation(operand, pos)
    }

    fn parenthesized(&mut self) -> Result<Expr, SelectorError> {
        let pos = self.bump().pos;
        self.enter(pos)?;
        let inner = self.expr(OR)?;
        self.leave();
        self.close_paren(inner, pos)
    }

    fn close_paren(&mut self, inner: Expr, pos: usize) -> Result<Expr, SelectorError> {
        self.expect(TokenKind::RParen, "')'")?;
        Ok(Expr { pos, ..inner })
    }

    fn signed(&mut self) -> Result<Expr, SelectorError> {
        let sign = self.bump();
        if let Some(literal) = self.negative_literal(&sign)? {
            return Ok(literal);
        }
        self.enter(sign.pos)?;
        let operand = self.prefix(false)?;
        self.leave();
        signed(&sign, operand)
    }

    /// `-9223372036854775808` is folded here: its digits alone are out of range.
    fn negative_literal(&mut self, sign: &Token) -> Result<Option<Expr>, SelectorError> {
        let TokenKind::Integer(value) = *self.peek_kind() else {
            return Ok(None);
        };
        if sign.kind != TokenKind::Minus {
            return Ok(None);
        }
        let literal = self.bump();
        let value = i64::try_from(0i128 - i128::from(value)).map_err(|_| {
            SelectorError::new(
                sign.pos,
                format!("integer literal '-{}' is out of range", literal.text),
            )
        })?;
        node(Node::Literal(Literal::Long(value)), Ty::Num, sign.pos, 1).map(Some)
    }

    /// A literal or an identifier.
    fn operand(&mut self) -> Result<Expr, SelectorError> {
        let token = self.bump();
        let pos = token.pos;
        let (node_kind, ty) = match token.kind {
            TokenKind::Integer(value) => {
                let value = i64::try_from(value).map_err(|_| {
                    SelectorError::new(
                        pos,
                        format!("integer literal '{}' is out of range", token.text),
                    )
                })?;
                (Node::Literal(Literal::Long(value)), Ty::Num)
            }
            TokenKind::Float(value) => (Node::Literal(Literal::Double(value)), Ty::Num),
            TokenKind::Str(value) => (Node::Literal(Literal::Str(value)), Ty::Str),
            TokenKind::Keyword(Keyword::True) => (Node::Literal(Literal::Bool(true)), Ty::Bool),
            TokenKind::Keyword(Keyword::False) => (Node::Literal(Literal::Bool(false)), Ty::Bool),
            TokenKind::Ident(name) => (Node::Ident(Ident::resolve(name)), Ty::Any),
            TokenKind::Keyword(Keyword::Null) => {
                return Err(SelectorError::new(
                    pos,
                    "unexpected 'NULL': use IS NULL or IS NOT NULL to test for a missing value"
                        .to_string(),
                ))
            }
            _ => return Err(unexpected(&token, "an expression")),
        };
        node(node_kind, ty, pos, 1)
    }

    /// `[NOT] BETWEEN`, `[NOT] IN`, `[NOT] LIKE` or `IS [NOT] NULL` after `left`.
    fn predicate(&mut self, left: Expr) -> Result<Expr, SelectorError> {
        let negated = self.at_keyword(Keyword::Not);
        if negated {
            self.bump();
        }
        let keyword = self.bump();
        match keyword.kind {
            TokenKind::Keyword(Keyword::Between) => self.between(left, negated),
            TokenKind::Keyword(Keyword::In) => self.in_list(left, negated, &keyword),
            TokenKind::Keyword(Keyword::Like) => self.like(left, negated, &keyword),
            _ => self.is_null(left),
        }
    }

    fn between(&mut self, value: Expr, negated: bool) -> Result<Expr, SelectorError> {
        check_numeric(&value, "BETWEEN")?;
        let low = self.expr(ADDITIVE)?;
        check_numeric(&low, "BETWEEN")?;
        self.expect(TokenKind::Keyword(Keyword::And), "AND in BETWEEN … AND …")?;
        let high = self.expr(ADDITIVE)?;
        check_numeric(&high, "BETWEEN")?;
        let height = value.height.max(low.height).max(high.height) + 1;
        node(
            Node::Between {
                negated,
                value: Box::new(value.node),
                low: Box::new(low.node),
                high: Box::new(high.node),
            },
            Ty::Bool,
            value.pos,
            height,
        )
    }

    fn in_list(
        &mut self,
        left: Expr,
        negated: bool,
        keyword: &Token,
    ) -> Result<Expr, SelectorError> {
        let pos = left.pos;
        let ident = identifier_operand(left, keyword)?;
        self.expect(TokenKind::LParen, "'(' after IN")?;
        let mut list = Vec::new();
        loop {
            let token = self.bump();
            match token.kind {
                TokenKind::Str(value) => list.push(value),
                _ => return Err(unexpected(&token, "a string literal in the IN list")),
            }
            let token = self.bump();
            match token.kind {
                TokenKind::Comma => continue,
                TokenKind::RParen => break,
                _ => return Err(unexpected(&token, "',' or ')' in the IN list")),
            }
        }
        node(
            Node::In {
                negated,
                ident,
                list,
            },
            Ty::Bool,
            pos,
            1,
        )
    }

    fn like(&mut self, left: Expr, negated: bool, keyword: &Token) -> Result<Expr, SelectorError> {
        let pos = left.pos;
        let ident = identifier_operand(left, keyword)?;
        let token = self.bump();
        let TokenKind::Str(pattern_text) = &token.kind else {
            return Err(unexpected(&token, "a string literal after LIKE"));
        };
        let mut escape = None;
        if self.at_keyword(Keyword::Escape) {
            self.bump();
            let escape_token = self.bump();
            let TokenKind::Str(text) = &escape_token.kind else {
                return Err(unexpected(&escape_token, "a string literal after ESCAPE"));
            };
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => escape = Some(c),
                _ => {
                    return Err(SelectorError::new(
                        escape_token.pos,
                        format!(
                            "the ESCAPE string {} must be exactly one character",
                            escape_token.describe()
                        ),
                    ))
                }
            }
        }
        let pattern = Pattern::compile(pattern_text, escape).map_err(|message| {
            SelectorError::new(token.pos, format!("{message} in {}", token.describe()))
        })?;
        node(
            Node::Like {
                negated,
                ident,
                pattern,
            },
            Ty::Bool,
            pos,
            1,
        )
    }

    fn is_null(&mut self, value: Expr) -> Result<Expr, SelectorError> {
        let negated = self.at_keyword(Keyword::Not);
        if negated {
            self.bump();
        }
        self.expect(TokenKind::Keyword(Keyword::Null), "NULL after IS")?;
        if value.ty == Ty::Bool {
            // `(a = 1) IS NULL` would ask about UNKNOWN, which JMS has no syntax for.
            return Err(SelectorError::new(
                value.pos,
                "IS NULL needs a value, not a boolean expression".to_string(),
            ));
        }
        let height = value.height + 1;
        node(
            Node::IsNull {
                negated,
                value: Box::new(value.node),
            },
            Ty::Bool,
            value.pos,
            height,
        )
    }
}

fn unexpected(token: &Token, expected: &str) -> SelectorError {
    SelectorError::new(
        token.pos,
        format!("unexpected {}, expected {expected}", token.describe()),
    )
}

fn check_boolean(expr: &Expr, context: &str) -> Result<(), SelectorError> {
    match expr.ty {
        Ty::Bool | Ty::Any => Ok(()),
        ty => Err(SelectorError::new(
            expr.pos,
            format!("{context} must be a boolean expression, not {}", ty.name()),
        )),
    }
}

fn check_numeric(expr: &Expr, context: &str) -> Result<(), SelectorError> {
    match expr.ty {
        Ty::Num | Ty::Any => Ok(()),
        ty => Err(SelectorError::new(
            expr.pos,
            format!("{context} needs a number, not {}", ty.name()),
        )),
    }
}

fn too_deep(pos: usize) -> SelectorError {
    SelectorError::new(
        pos,
        format!("the selector is nested too deeply (more than {MAX_DEPTH} levels)"),
    )
}

fn node(node: Node, ty: Ty, pos: usize, height: usize) -> Result<Expr, SelectorError> {
    if height > MAX_DEPTH {
        return Err(too_deep(pos));
    }
    Ok(Expr {
        node,
        ty,
        pos,
        height,
    })
}

fn negation(operand: Expr, pos: usize) -> Result<Expr, SelectorError> {
    check_boolean(&operand, "the operand of NOT")?;
    let height = operand.height + 1;
    node(Node::Not(Box::new(operand.node)), Ty::Bool, pos, height)
}

/// A unary sign on anything but an integer literal right after `-`.
fn signed(sign: &Token, operand: Expr) -> Result<Expr, SelectorError> {
    check_numeric(&operand, &format!("unary '{}'", sign.text))?;
    let negative = sign.kind == TokenKind::Minus;
    let folded = match &operand.node {
        Node::Literal(Literal::Long(v)) if negative => v.checked_neg().map(Literal::Long),
        Node::Literal(Literal::Double(v)) if negative => Some(Literal::Double(-v)),
        Node::Literal(literal) if !negative => Some(literal.clone()),
        _ => None,
    };
    if let Some(literal) = folded {
        return node(Node::Literal(literal), Ty::Num, sign.pos, 1);
    }
    let height = operand.height + 1;
    let inner = Box::new(operand.node);
    // Unary plus is kept as a node: `+a` is NULL when `a` is not a number.
    let node_kind = if negative {
        Node::Neg(inner)
    } else {
        Node::Pos(inner)
    };
    node(node_kind, Ty::Num, sign.pos, height)
}

fn comparison(op: CmpOp, token: &Token, left: Expr, right: Expr) -> Result<Expr, SelectorError> {
    if op.is_ordering() {
        // JMS restricts strings and booleans to = and <>.
        for side in [&left, &right] {
            if matches!(side.ty, Ty::Str | Ty::Bool) {
                return Err(SelectorError::new(
                    side.pos,
                    format!(
                        "'{}' cannot compare {}: strings and booleans allow only = and <>",
                        token.text,
                        side.ty.name()
                    ),
                ));
            }
        }
    }
    let height = left.height.max(right.height) + 1;
    node(
        Node::Cmp(op, Box::new(left.node), Box::new(right.node)),
        Ty::Bool,
        left.pos,
        height,
    )
}

fn arith(op: ArithOp, token: &Token, left: Expr, right: Expr) -> Result<Expr, SelectorError> {
    let context = format!("'{}'", token.text);
    check_numeric(&left, &context)?;
    check_numeric(&right, &context)?;
    let height = left.height.max(right.height) + 1;
    // Positioned at the operator: in a long chain that is where the limit was crossed.
    if height > MAX_DEPTH {
        return Err(too_deep(token.pos));
    }
    // The result is a number or NULL, never a string or boolean, whatever the message.
    node(
        Node::Arith(op, Box::new(left.node), Box::new(right.node)),
        Ty::Num,
        left.pos,
        height,
    )
}

/// LIKE and IN apply to an identifier only (JMS 1.1 §3.8.1.2).
fn identifier_operand(left: Expr, keyword: &Token) -> Result<Ident, SelectorError> {
    match left.node {
        Node::Ident(ident) => Ok(ident),
        _ => Err(SelectorError::new(
            left.pos,
            format!(
                "{} needs an identifier on its left, not {}",
                keyword.text.to_uppercase(),
                match left.ty {
                    Ty::Any => "an expression",
                    ty => ty.name(),
                }
            ),
        )),
    }
}
